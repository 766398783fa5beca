// Package loadtest puts the app under load while its sandbox Google fails
// at random, and checks that it stays correct and bounded: no panics, no
// 500s, every status one the route may answer, every session where the
// run left it, goroutines and memory back down afterwards, the cache within
// its ceiling. It prints latency and throughput; it asserts neither, since
// both depend on the machine.
//
// `go test ./...` runs a short, lighter version: 16 clients sending 30
// requests each, however long that takes on a machine shared with every
// other package's tests under the race detector. `make loadtest` runs the
// real one, a minute long:
//
//	go test ./internal/loadtest/ -run TestLoad -count=1 -v -args -duration=60s -clients=64 -requests=10000000
package loadtest

import (
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/sandbox"
	"gmailoauth/internal/web"
)

var (
	duration    = flag.Duration("duration", 0, "how long the load runs at most; 0 for as long as -requests takes")
	numClients  = flag.Int("clients", 16, "concurrent clients, each with its own signed-in session")
	maxRequests = flag.Int("requests", 480, "most requests sent in all, shared evenly by the clients")
	seed        = flag.Uint64("seed", 0, "seed of the clients' random choices; 0 picks one (printed)")
)

// The app's Gmail deadlines, far below the production 4s and 8s so that a
// short run meets many of them.
const (
	callTimeout = 300 * time.Millisecond
	pageTimeout = time.Second
)

// slowDelay is how long the slow calls take: far past the page deadline,
// so that a /home p99 near the deadline (printed, not asserted) shows that
// the deadline, not the slow calls, decides how long a page takes.
const slowDelay = 5 * pageTimeout

// faults is what the sandbox does to Gmail calls during the run.
var faults = sandbox.FaultRates{
	P500:       0.10,
	P429:       0.05,
	PSlow:      0.05,
	PMalformed: 0.02,
	SlowDelay:  slowDelay,
	RetryAfter: time.Second,
}

const (
	// cacheCeiling holds about half of the seeded unread messages, so the
	// run exercises eviction, not just filling.
	cacheCeiling = 16 << 10
	// accessTokenTTL and tokenJump make every token come due during the
	// run, on the clock the app and the sandbox share rather than on the
	// wall clock: at a quarter and at three quarters of the run the clock
	// jumps by tokenJump, leaving each token inside the app's 10 s
	// early-expiry window, so every session refreshes (or, without a
	// refresh token, renews silently) against the token endpoint under
	// load, however fast the machine is. The jump is shorter than that
	// window: a token the app still sends (more than 10 s left when it
	// looked) is still live when the sandbox looks, even with a jump in
	// between, as a busy machine makes likely; a jump longer than the
	// window turned such calls into Gmail 401s, which sign the person out.
	// It also stays far under the sandbox's code lifetime and the app's
	// attempt lifetime, so a sign-in in flight across a jump finishes.
	accessTokenTTL = 15 * time.Second
	tokenJump      = 9 * time.Second
	// Generous bounds: the point is catching growth without bound, not
	// measuring. The race detector multiplies memory several times.
	maxHeapAfterGC = 256 << 20
	maxPeakRSS     = 2 << 30
	goroutineSlack = 5
	// goroutineSettling only turns a leak into a failure instead of a
	// hang: goroutines of closed connections end within milliseconds, so
	// a minute is no budget any machine could miss.
	goroutineSettling = time.Minute
)

// report is what a run measured, printed one figure per line.
type report struct {
	requests       int
	elapsed        time.Duration
	statuses       map[int]int
	routes         map[string]map[int]int
	all, home      []time.Duration // sorted
	panics         int64
	errorLogs      int64
	revokedClients int
	sentToSignIn   int
	// renewedAfterRevocation counts clients of the revoked account that
	// were never sent to sign in: their token was renewed silently after
	// another client of the account granted access again.
	renewedAfterRevocation int
	sandbox                sandbox.Stats
	unread                 int // unread messages in all seeded mailboxes
	cacheEntries           int
	cacheBytes             int64
	cachePeak              int64
	goroutines             [2]int
	heapAfterGC            uint64
	peakRSS                int64
	peakRSSKnown           bool
	signedInAgain          int
	failures               []string // the first few of each client
	failureCount           int
	transportErrors        int
}

func TestLoad(t *testing.T) {
	if *numClients < 1 || *duration < 0 || *maxRequests < *numClients {
		t.Fatalf("flags -clients=%d -duration=%v -requests=%d: want at least one client, no negative duration and a request per client",
			*numClients, *duration, *maxRequests)
	}
	runSeed := *seed
	if runSeed == 0 {
		runSeed = rand.Uint64()
	}
	t.Logf("config: %d clients, %v, at most %d requests, seed %d", *numClients, *duration, *maxRequests, runSeed)
	t.Logf("config: Gmail CallTimeout %v, PageTimeout %v; cache ceiling %d KB; access tokens live %v, the clock jumps %v at 1/4 and 3/4 of the run",
		callTimeout, pageTimeout, cacheCeiling>>10, accessTokenTTL, tokenJump)
	t.Logf("config: faults %.0f%% 500, %.0f%% 429 (Retry-After %v), %.0f%% slow (%v), %.0f%% malformed",
		faults.P500*100, faults.P429*100, faults.RetryAfter, faults.PSlow*100, faults.SlowDelay, faults.PMalformed*100)

	rep := &report{}
	rep.goroutines[0] = runtime.NumGoroutine()
	// The environment lives in a subtest so that its servers are closed,
	// by the harness's cleanup, before the goroutines are counted again.
	if !t.Run("run", func(t *testing.T) { runLoad(t, runSeed, rep) }) {
		return // the environment did not come up; there is nothing to measure
	}

	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	rep.heapAfterGC = mem.HeapAlloc
	rep.peakRSS, rep.peakRSSKnown = apptest.PeakRSS()
	rep.goroutines[1] = settledGoroutines(rep.goroutines[0]+goroutineSlack, goroutineSettling)
	rep.print(t)

	if rep.panics != 0 {
		t.Errorf("panics: %d; want 0", rep.panics)
	}
	if n := rep.statuses[http.StatusInternalServerError]; n != 0 {
		t.Errorf("status 500: %d responses; want 0", n)
	}
	if rep.failureCount > 0 {
		t.Errorf("%d responses broke the rules; the first:\n%s", rep.failureCount, strings.Join(rep.failures[:min(20, len(rep.failures))], "\n"))
	}
	if rep.cachePeak > cacheCeiling || rep.cacheBytes > cacheCeiling {
		t.Errorf("cache held %d bytes at most (%d at the end); want at most its ceiling %d", rep.cachePeak, rep.cacheBytes, cacheCeiling)
	}
	if rep.routes["/home?page"][http.StatusOK] == 0 {
		t.Errorf("no inbox page was reached through its Older link; want the clients to page (has the link's markup changed?)")
	}
	if rep.sentToSignIn+rep.renewedAfterRevocation != rep.revokedClients {
		t.Errorf("%d of %d clients of the revoked account were sent to sign in again and %d renewed silently after a new grant; want all one or the other",
			rep.sentToSignIn, rep.revokedClients, rep.renewedAfterRevocation)
	}
	if rep.renewedAfterRevocation > 0 && rep.signedInAgain == 0 {
		t.Errorf("%d clients of the revoked account renewed silently, but none granted access again; want a renewal only after a new grant", rep.renewedAfterRevocation)
	}
	if rep.heapAfterGC > maxHeapAfterGC {
		t.Errorf("heap after GC = %s; want at most %s", megabytes(int64(rep.heapAfterGC)), megabytes(maxHeapAfterGC))
	}
	if rep.peakRSSKnown && rep.peakRSS > maxPeakRSS {
		t.Errorf("peak RSS = %s; want at most %s", megabytes(rep.peakRSS), megabytes(maxPeakRSS))
	}
	if limit := rep.goroutines[0] + goroutineSlack; rep.goroutines[1] > limit {
		t.Errorf("goroutines = %d %v after the run; want at most %d (baseline %d)\n%s",
			rep.goroutines[1], goroutineSettling, limit, rep.goroutines[0], goroutineDump())
	}
}

// runLoad starts the app and its sandbox, signs the clients in, runs the
// load with faults and a revocation, and fills rep.
func runLoad(t *testing.T, runSeed uint64, rep *report) {
	logs := &logCounter{}
	cache := gmail.NewCache(cacheCeiling)
	// Like main.go, the app keeps enough idle connections to Gmail for its
	// concurrency; the test holds the transports to close them at the end.
	gmailTransport := newTransport(*numClients)
	tokenTransport := newTransport(*numClients)
	// The clock the app and the sandbox share stands still except when
	// the run moves it.
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{
		Now:         clock.Now,
		Cache:       cache,
		PageTimeout: pageTimeout,
		CallTimeout: callTimeout,
		Logger:      logs.logger(),
		// The clock stands still, so a session's views would never come
		// back to it: the per-session limit would turn the run into 429s.
		Config: func(c *config.Config) { c.InboxLimit = 0 },
		Deps: func(d *web.Deps) {
			d.GmailTransport = gmailTransport
			d.HTTPClient = &http.Client{Transport: tokenTransport, Timeout: 10 * time.Second}
		},
	})
	defer gmailTransport.CloseIdleConnections()
	defer tokenTransport.CloseIdleConnections()
	app := env.Apps[0]
	env.Sandbox.SetAccessTokenTTL(accessTokenTTL)

	accounts := env.Sandbox.Accounts()
	for _, account := range accounts {
		rep.unread += env.Sandbox.UnreadCount(account)
	}
	revoked := accounts[1]
	browsers := newTransport(*numClients)
	defer browsers.CloseIdleConnections()
	clients := make([]*client, *numClients)
	for i := range clients {
		b := apptest.NewBrowser(t)
		b.Client.Transport = browsers
		account := accounts[i%len(accounts)]
		b.SignIn(t, app, account)
		clients[i] = newClient(i, app.URL, env.SandboxURL, account, account == revoked, b.Client, runSeed)
	}
	for _, c := range clients {
		if c.revokedAccount {
			rep.revokedClients++
		}
	}

	env.Sandbox.ResetStats()
	env.Sandbox.SetFaultRates(faults)
	perClient := *maxRequests / *numClients
	var deadline time.Time // none: the clients stop after perClient requests
	if *duration > 0 {
		deadline = time.Now().Add(*duration)
	}

	// The revocation comes halfway through: after half the requests, or
	// half the duration when that is sooner.
	var revokedNow atomic.Bool
	var revokeOnce sync.Once
	revoke := func() {
		revokeOnce.Do(func() {
			// Set first, so any 303 seen later is checked against it.
			revokedNow.Store(true)
			env.Sandbox.RevokeAccount(revoked)
		})
	}
	// Each clock jump, like the revocation, comes once: at a quarter (and
	// three quarters) of the requests or of the duration, whichever is
	// sooner. Were both to jump, two jumps together would outrun the
	// early-expiry window that tokenJump is kept under.
	var jumped [2]sync.Once
	firstJump := func() { jumped[0].Do(func() { clock.Advance(tokenJump) }) }
	secondJump := func() { jumped[1].Do(func() { clock.Advance(tokenJump) }) }
	var sent atomic.Int64
	total := int64(perClient * *numClients)
	sending := func() {
		switch sent.Add(1) {
		case total / 4:
			firstJump()
		case 3 * total / 4:
			secondJump()
		case total / 2:
			revoke()
		}
	}
	if *duration > 0 {
		for _, at := range []struct {
			after time.Duration
			do    func()
		}{
			{after: *duration / 4, do: firstJump},
			{after: *duration / 2, do: revoke},
			{after: 3 * *duration / 4, do: secondJump},
		} {
			timer := time.AfterFunc(at.after, at.do)
			defer timer.Stop()
		}
	}
	stopSampler := make(chan struct{})
	samplerDone := make(chan int64)
	go func() { samplerDone <- sampleCache(cache, stopSampler) }()

	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.run(perClient, deadline, sending, &revokedNow) })
	}
	wg.Wait()
	rep.elapsed = time.Since(start)
	close(stopSampler)
	rep.cachePeak = <-samplerDone
	revoke() // a run cut short by its duration still checks the revocation

	// With faults off, every session must be exactly where the run left
	// it: signed in and reading mail, or, for the revoked account, sent to
	// sign in again.
	env.Sandbox.ClearFaults()
	for _, c := range clients {
		c.finalCheck(env.Sandbox.UnreadCount(c.account))
	}

	rep.sandbox = env.Sandbox.Stats()
	rep.cacheEntries, rep.cacheBytes = cache.Len(), cache.Bytes()
	rep.panics, rep.errorLogs = logs.panics.Load(), logs.errors.Load()
	if first := logs.firstPanic(); first != "" {
		rep.failures = append(rep.failures, "app logged a panic: "+first)
		rep.failureCount++
	}
	rep.merge(clients)
}

// newTransport is a transport keeping up to n idle connections per host, so
// that n concurrent clients reuse connections instead of reopening them.
func newTransport(n int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = n
	return tr
}

// sampleCache checks the cache's size every few milliseconds until stop
// and returns the largest size seen.
func sampleCache(cache *gmail.Cache, stop <-chan struct{}) int64 {
	const every = 20 * time.Millisecond
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	var peak int64
	for {
		peak = max(peak, cache.Bytes())
		select {
		case <-stop:
			return max(peak, cache.Bytes())
		case <-ticker.C:
		}
	}
}

// settledGoroutines waits, polling, until at most limit goroutines are
// left or within has passed, and returns the last count.
func settledGoroutines(limit int, within time.Duration) int {
	deadline := time.Now().Add(within)
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		n := runtime.NumGoroutine()
		if n <= limit || time.Now().After(deadline) {
			return n
		}
		<-ticker.C
	}
}

func (rep *report) merge(clients []*client) {
	rep.statuses = map[int]int{}
	rep.routes = map[string]map[int]int{}
	for _, c := range clients {
		for route, statuses := range c.statuses {
			if rep.routes[route] == nil {
				rep.routes[route] = map[int]int{}
			}
			for status, n := range statuses {
				rep.routes[route][status] += n
				rep.statuses[status] += n
				rep.requests += n
			}
		}
		rep.all = append(rep.all, c.latencies...)
		rep.home = append(rep.home, c.homeLatencies...)
		rep.failures = append(rep.failures, c.failures...)
		rep.failureCount += c.failureCount
		rep.transportErrors += c.transportErrors
		if c.sentToSignIn {
			rep.sentToSignIn++
		} else if c.renewedAfterRevocation {
			rep.renewedAfterRevocation++
		}
		if c.signedInAgain {
			rep.signedInAgain++
		}
	}
	slices.Sort(rep.all)
	slices.Sort(rep.home)
}

func (rep *report) print(t *testing.T) {
	t.Helper()
	t.Logf("requests: %d", rep.requests)
	t.Logf("throughput: %.0f requests/s", float64(rep.requests)/rep.elapsed.Seconds())
	for _, status := range slices.Sorted(maps.Keys(rep.statuses)) {
		t.Logf("status %d: %.1f%% (%d)", status, percent(rep.statuses[status], rep.requests), rep.statuses[status])
	}
	if rep.statuses[http.StatusInternalServerError] == 0 {
		t.Logf("status 500: 0")
	}
	for _, route := range slices.Sorted(maps.Keys(rep.routes)) {
		line := ""
		for _, status := range slices.Sorted(maps.Keys(rep.routes[route])) {
			line += fmt.Sprintf(" %d×%d", status, rep.routes[route][status])
		}
		t.Logf("route %s:%s", route, line)
	}
	t.Logf("transport errors: %d", rep.transportErrors)
	t.Logf("p50: %s", millis(percentile(rep.all, 0.50)))
	t.Logf("p99: %s", millis(percentile(rep.all, 0.99)))
	t.Logf("p50 /home: %s", millis(percentile(rep.home, 0.50)))
	t.Logf("p99 /home: %s (page deadline %s)", millis(percentile(rep.home, 0.99)), millis(pageTimeout))
	t.Logf("max /home: %s", millis(percentile(rep.home, 1)))
	t.Logf("panics: %d", rep.panics)
	t.Logf("error log records: %d", rep.errorLogs)
	t.Logf("revoked clients sent to sign in: %d/%d (%d signed in again, %d renewed silently after that)",
		rep.sentToSignIn, rep.revokedClients, rep.signedInAgain, rep.renewedAfterRevocation)
	t.Logf("sandbox: %d Gmail calls, %d batch parts, %d token calls (%d refreshes), peak %d Gmail calls in flight",
		rep.sandbox.GmailCalls, rep.sandbox.BatchParts, rep.sandbox.TokenCalls, rep.sandbox.RefreshGrants, rep.sandbox.MaxInFlight)
	t.Logf("cache: %d entries (of %d unread messages), %.1f KB of %.1f KB ceiling (peak during the load %.1f KB)",
		rep.cacheEntries, rep.unread, kilobytes(rep.cacheBytes), kilobytes(cacheCeiling), kilobytes(rep.cachePeak))
	t.Logf("goroutines before/after: %d/%d", rep.goroutines[0], rep.goroutines[1])
	t.Logf("heap after GC: %s", megabytes(int64(rep.heapAfterGC)))
	if rep.peakRSSKnown {
		t.Logf("peak RSS: %s", megabytes(rep.peakRSS))
	}
}

// percentile returns the value below which a fraction p of sorted lies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(p*float64(len(sorted))), len(sorted)-1)
	return sorted[i]
}

func percent(n, total int) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func kilobytes(n int64) float64 { return float64(n) / (1 << 10) }

func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
