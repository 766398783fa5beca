package web_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/gmail"
)

// gmailLatency is the round trip the sandbox adds to every Gmail call (and
// every batch part, which it runs concurrently, as Gmail does).
var gmailLatency = flag.Duration("gmail-latency", 50*time.Millisecond, "latency the sandbox adds to each Gmail call in benchmarks")

// BenchmarkInbox measures one person's view of /home with 50 unread
// messages: the first view (nothing cached) and a repeat view (metadata
// cached), for both ways of fetching metadata. Besides ns/op it reports the
// median view as a multiple of one Gmail round trip and the most Gmail
// calls that were in flight at once.
func BenchmarkInbox(b *testing.B) {
	for _, strategy := range []gmail.Strategy{gmail.Batch, gmail.Concurrent} {
		b.Run("first-view/"+strategy.String(), func(b *testing.B) {
			// A cache that holds nothing: every view is a first view.
			benchmarkInbox(b, apptest.Options{Strategy: strategy, Cache: gmail.NewCache(0)})
		})
		b.Run("repeat-view/"+strategy.String(), func(b *testing.B) {
			benchmarkInbox(b, apptest.Options{Strategy: strategy, Cache: gmail.NewCache(8 << 20)})
		})
	}
}

func benchmarkInbox(b *testing.B, opts apptest.Options) {
	opts.PageTimeout = 30 * time.Second
	opts.CallTimeout = 10 * time.Second
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

// BenchmarkThroughput measures requests per second at 32 concurrent
// clients on loopback, with no added Gmail latency and the cache warm: the
// start page, and a signed-in inbox. It reports the process's peak RSS,
// which includes the sandbox and the load generator running alongside.
func BenchmarkThroughput(b *testing.B) {
	const clients = 32
	for _, page := range []string{"/", "/home"} {
		b.Run("page="+page, func(b *testing.B) {
			env := apptest.Start(b, apptest.Options{Cache: gmail.NewCache(8 << 20)})
			app := env.Apps[0]
			browser := apptest.NewBrowser(b)
			browser.SignIn(b, app, hanako)
			appURL, _ := url.Parse(app.URL)
			cookies := browser.Jar.Cookies(appURL)
			transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
			defer transport.CloseIdleConnections()
			client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
			get := func() error {
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, app.URL+page, nil)
				if err != nil {
					return err
				}
				for _, c := range cookies {
					req.AddCookie(c)
				}
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				io.Copy(io.Discard, resp.Body)
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("GET %s = %d; want 200", page, resp.StatusCode)
				}
				return nil
			}
			if err := get(); err != nil { // warm the cache
				b.Fatal(err)
			}
			b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			var once sync.Once
			var failure error
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := get(); err != nil {
						once.Do(func() { failure = err })
						return
					}
				}
			})
			b.StopTimer()
			if failure != nil {
				b.Fatal(failure)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
			if rss, ok := apptest.PeakRSS(); ok {
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
			}
		})
	}
}

func medianOf(durations []time.Duration) time.Duration {
	if len(durations) == 0 {
		return 0
	}
	sorted := slices.Clone(durations)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}
