package web_test

import (
	"flag"
	"net/http"
	"slices"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
)

// gmailLatency is the round trip the sandbox adds to every Gmail call (and
// every batch part, which it runs concurrently, as Gmail does).
var gmailLatency = flag.Duration("gmail-latency", 50*time.Millisecond, "latency the sandbox adds to each Gmail call in benchmarks")

// BenchmarkInbox measures one person's view of /home with 50 unread
// messages: the first view (nothing cached) and a repeat view (metadata
// cached). Besides ns/op it reports the
// median view as a multiple of one Gmail round trip and the most Gmail
// calls that were in flight at once.
func BenchmarkInbox(b *testing.B) {
	b.Run("first-view", func(b *testing.B) {
		// A cache that holds nothing: every view is a first view.
		benchmarkInbox(b, apptest.Options{Cache: gmail.NewCache(0)})
	})
	b.Run("repeat-view", func(b *testing.B) {
		benchmarkInbox(b, apptest.Options{Cache: gmail.NewCache(8 << 20)})
	})
}

func benchmarkInbox(b *testing.B, opts apptest.Options) {
	opts.PageTimeout = 30 * time.Second
	opts.CallTimeout = 10 * time.Second
	// One session views the inbox as fast as it can: past the per-session
	// limit, it would measure the 429 page.
	opts.Config = func(c *config.Config) { c.InboxLimit = 0 }
	env := apptest.Start(b, opts)
	app := env.Apps[0]
	browser := apptest.NewBrowser(b)
	browser.SignIn(b, app, hanako)
	env.Sandbox.SetLatency(*gmailLatency)
	view := func() {
		resp := browser.Get(b, app.URL+"/home")
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET /home = %d; want 200", resp.StatusCode)
		}
	}
	view() // warms connections, and the cache when there is one
	env.Sandbox.ResetStats()
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		view()
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	stats := env.Sandbox.Stats()
	median := medianOf(durations)
	b.ReportMetric(float64(median)/float64(time.Millisecond), "median-ms")
	if *gmailLatency > 0 {
		b.ReportMetric(float64(median)/float64(*gmailLatency), "median-xRTT")
	}
	b.ReportMetric(float64(stats.MaxInFlight), "max-in-flight")
	b.ReportMetric(float64(stats.GmailCalls)/float64(b.N), "gmail-calls/view")
}

func medianOf(durations []time.Duration) time.Duration {
	if len(durations) == 0 {
		return 0
	}
	sorted := slices.Clone(durations)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}
