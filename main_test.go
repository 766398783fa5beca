package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
)

// startTimeout bounds how long run() may take to answer /healthz.
const startTimeout = 10 * time.Second

// freeAddr returns a loopback address nothing listens on, found by
// listening on port 0 and closing again.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// running is run() started in a goroutine.
type running struct {
	addr   string
	url    string
	logs   *apptest.LogBuffer
	cancel context.CancelFunc // what SIGTERM does through signal.NotifyContext
	done   chan struct{}      // closed when run() has returned err
	err    error
}

// startRun starts run() with env as its whole environment and waits until
// it answers /healthz. The test's cleanup stops it if the test did not.
func startRun(t *testing.T, env map[string]string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{addr: env["ADDR"], url: "http://" + env["ADDR"], logs: &apptest.LogBuffer{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = run(ctx, nil, mapEnv(env), r.logs, r.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(shutdownTimeout + 5*time.Second):
			t.Errorf("run() still running %v after cancel", shutdownTimeout+5*time.Second)
		}
	})

	deadline := time.Now().Add(startTimeout)
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for {
		resp, err := http.Get(r.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		select {
		case <-r.done:
			t.Fatalf("run() = %v before answering /healthz\n%s", r.err, r.logs)
		case <-ticker.C:
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz: no 200 within %v (last error %v)\n%s", startTimeout, err, r.logs)
		}
	}
}

func mapEnv(env map[string]string) func(string) string {
	return func(name string) string { return env[name] }
}

// slowGmail stands between the app and the sandbox's Gmail API, which run()
// starts and so only run() can reach: GMAIL_API_URL points here, and tokens
// are still checked by the real sandbox behind. While held, it keeps message
// list calls waiting until released, so page views stay in flight for as
// long as a test needs, without guessing at durations.
type slowGmail struct {
	URL      string
	proxy    *httputil.ReverseProxy
	mu       sync.Mutex
	held     bool
	release  chan struct{}
	arrivals chan struct{} // one per list call held
}

func newSlowGmail(t *testing.T, sandboxAddr string) *slowGmail {
	t.Helper()
	g := &slowGmail{proxy: httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: sandboxAddr})}
	// The app reports Gmail failures itself; the proxy's own log is noise.
	g.proxy.ErrorLog = log.New(io.Discard, "", 0)
	// A pool of connections to the sandbox would keep some it dialled and
	// never used, which the sandbox's Shutdown waits five seconds for.
	g.proxy.Transport = &http.Transport{DisableKeepAlives: true}
	srv := httptest.NewServer(g)
	// Cleanups run last first: release what is held, then close.
	t.Cleanup(srv.Close)
	t.Cleanup(g.releaseAll)
	g.URL = srv.URL
	return g
}

// hold makes the next list calls wait; n is how many arrivals to expect.
func (g *slowGmail) hold(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held, g.release, g.arrivals = true, make(chan struct{}), make(chan struct{}, n)
}

func (g *slowGmail) releaseAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held {
		g.held = false
		close(g.release)
	}
}

func (g *slowGmail) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	held, release, arrivals := g.held, g.release, g.arrivals
	g.mu.Unlock()
	if held && r.URL.Path == "/gmail/v1/users/me/messages" {
		select {
		case arrivals <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
	}
	g.proxy.ServeHTTP(w, r)
}

// newBrowser is a test browser with its own connections, as each person's
// browser has. Sharing one pool, concurrent requests open connections they
// end up not using; net/http's Shutdown counts such a connection as busy
// for its first five seconds, which would only make the test slow.
func newBrowser(t *testing.T) *apptest.Browser {
	t.Helper()
	b := apptest.NewBrowser(t)
	b.Client.Transport = &http.Transport{}
	return b
}

// result is one finished request of a test's load.
type result struct {
	status int
	body   []byte
	err    error
	at     time.Time
}

func getPage(b *apptest.Browser, rawURL string) result {
	resp, err := b.Client.Get(rawURL)
	if err != nil {
		return result{err: err, at: time.Now()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: body, err: err, at: time.Now()}
}

func TestGracefulShutdownUnderLoad(t *testing.T) {
	const (
		inFlight = 8 // page views held at Gmail when the stop comes
		loaders  = 4 // clients loading the start page meanwhile
		maxLoads = 10_000
	)
	sandboxAddr := freeAddr(t)
	gmail := newSlowGmail(t, sandboxAddr)
	r := startRun(t, map[string]string{
		"ADDR":          freeAddr(t),
		"SANDBOX_ADDR":  sandboxAddr,
		"GMAIL_API_URL": gmail.URL,
	})
	app := &apptest.App{URL: r.url}

	browsers := make([]*apptest.Browser, inFlight)
	for i := range browsers {
		browsers[i] = newBrowser(t)
		browsers[i].SignIn(t, app, "")
	}

	// Load that runs across the stop: each response must be whole and 200;
	// once the stop has come, failing to connect is what should happen.
	// stopped is written before the stop and read after the loaders report.
	var stopped time.Time
	stopLoad := make(chan struct{})
	loadResults := make(chan []result, loaders)
	for range loaders {
		b := newBrowser(t)
		go func() {
			var seen []result
			loadUntil := time.Now().Add(shutdownTimeout)
			for i := 0; i < maxLoads && time.Now().Before(loadUntil); i++ {
				res := getPage(b, r.url+"/")
				seen = append(seen, res)
				if res.err != nil || closed(stopLoad) {
					break
				}
			}
			loadResults <- seen
		}()
	}

	gmail.hold(inFlight)
	pages := make(chan result, inFlight)
	for _, b := range browsers {
		go func() { pages <- getPage(b, r.url+"/home") }()
	}
	waitArrivals(t, gmail.arrivals, inFlight, 10*time.Second)

	stopped = time.Now()
	r.cancel()

	// New connections are refused while the held page views drain.
	if err := waitRefused(r.addr, 5*time.Second); err != nil {
		t.Errorf("after the stop, with %d requests in flight: %v; want new connections refused", inFlight, err)
	}
	select {
	case <-r.done:
		t.Fatalf("run() = %v with %d requests still in flight; want it to wait for them", r.err, inFlight)
	default:
	}
	// /readyz cannot be seen saying 503 here: run() calls Drain and then
	// Shutdown at once, Shutdown closes the listener first, and net/http
	// drops any request it reads after that, even on a connection it
	// accepted before. internal/web tests Drain itself.

	gmail.releaseAll()
	for range inFlight {
		select {
		case res := <-pages:
			switch {
			case res.err != nil:
				t.Errorf("GET /home in flight at the stop: %v; want it to complete", res.err)
			case res.status != http.StatusOK || !bytes.Contains(res.body, []byte(`class="message`)):
				t.Errorf("GET /home in flight at the stop = %d; want 200 with messages\n%.2000s", res.status, res.body)
			case res.at.Sub(stopped) > shutdownTimeout:
				t.Errorf("GET /home in flight at the stop took %v after it; want at most %v", res.at.Sub(stopped), shutdownTimeout)
			}
		case <-time.After(shutdownTimeout):
			t.Fatalf("GET /home in flight at the stop: no answer within %v", shutdownTimeout)
		}
	}

	select {
	case <-r.done:
		if r.err != nil {
			t.Errorf("run() = %v after the stop; want nil", r.err)
		}
		if took := time.Since(stopped); took > shutdownTimeout {
			t.Errorf("run() returned %v after the stop; want within %v", took, shutdownTimeout)
		}
	case <-time.After(shutdownTimeout):
		t.Fatalf("run() did not return within %v of the stop\n%s", shutdownTimeout, r.logs)
	}

	close(stopLoad)
	var served int
	for range loaders {
		for _, res := range <-loadResults {
			switch {
			case res.err == nil && res.status == http.StatusOK:
				served++
			case res.err == nil:
				t.Errorf("GET / during shutdown = %d; want 200 or a refused connection", res.status)
			case res.at.Before(stopped):
				t.Errorf("GET / before the stop: %v", res.err)
			}
		}
	}
	if served == 0 {
		t.Errorf("the start page was never served under load")
	}
	if !strings.Contains(r.logs.String(), "shutting down") {
		t.Errorf("run() did not log that it was shutting down:\n%s", r.logs)
	}
	if err := waitRefused(sandboxAddr, time.Second); err != nil {
		t.Errorf("sandbox after run() returned: %v; want it closed too", err)
	}
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// waitArrivals waits for n signals on arrivals, at most within.
func waitArrivals(t *testing.T, arrivals <-chan struct{}, n int, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for i := range n {
		select {
		case <-arrivals:
		case <-timeout:
			t.Fatalf("%d of %d page views reached Gmail within %v", i, n, within)
		}
	}
}

// waitRefused dials addr until the connection is refused, at most within.
func waitRefused(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil
		}
		if err == nil {
			conn.Close()
		}
		if time.Now().After(deadline) {
			return errors.New("dial " + addr + " still connects after " + within.String())
		}
		<-ticker.C
	}
}

func TestRunBusyPort(t *testing.T) {
	for _, tt := range []struct {
		busy      string // the variable whose address is taken
		wantError string
	}{
		{"ADDR", "ADDR: "},
		{"SANDBOX_ADDR", "SANDBOX_ADDR: "},
	} {
		t.Run(tt.busy, func(t *testing.T) {
			taken, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer taken.Close()
			env := map[string]string{"ADDR": freeAddr(t), "SANDBOX_ADDR": freeAddr(t)}
			env[tt.busy] = taken.Addr().String()

			done := make(chan error, 1)
			go func() { done <- run(context.Background(), nil, mapEnv(env), io.Discard, io.Discard) }()
			select {
			case err := <-done:
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantError) {
					t.Fatalf("run() with %s busy = %v; want an error starting %q", tt.busy, err, tt.wantError)
				}
			case <-time.After(startTimeout):
				t.Fatalf("run() with %s busy still running after %v; want an error at once", tt.busy, startTimeout)
			}
			// Whatever run() had bound before failing is released.
			for _, name := range []string{"ADDR", "SANDBOX_ADDR"} {
				if name == tt.busy {
					continue
				}
				l, err := net.Listen("tcp", env[name])
				if err != nil {
					t.Errorf("after run() failed, %s %s is still taken: %v", name, env[name], err)
					continue
				}
				l.Close()
			}
		})
	}
}

func TestRunBadConfig(t *testing.T) {
	for _, tt := range []struct {
		name, value string
		wantNamed   string // the variable the error must name
	}{
		{"ADDR", "no-port", "ADDR"},
		{"REDIRECT_URL", "ftp://example.com/callback", "REDIRECT_URL"},
		{"LOG_FORMAT", "xml", "LOG_FORMAT"},
		{"GMAIL_PAGE_TIMEOUT", "soon", "GMAIL_PAGE_TIMEOUT"},
		{"GMAIL_CALL_TIMEOUT", "-1s", "GMAIL_CALL_TIMEOUT"},
		{"SESSION_KEYS", "not base64!", "SESSION_KEYS"},
		{"GOOGLE_CLIENT_ID", "only-the-id", "GOOGLE_CLIENT_SECRET"},
		{"GOOGLE_CREDENTIALS", "/nonexistent/client_secret.json", "GOOGLE_CREDENTIALS"},
		{"GMAIL_API_URL", "gmail.googleapis.com", "GMAIL_API_URL"},
		{"SANDBOX_ADDR", "nowhere", "SANDBOX_ADDR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"ADDR": freeAddr(t), "SANDBOX_ADDR": freeAddr(t)}
			env[tt.name] = tt.value
			var stderr bytes.Buffer
			err := run(context.Background(), nil, mapEnv(env), io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantNamed) {
				t.Errorf("run() with %s=%q = %v; want an error naming %s", tt.name, tt.value, err, tt.wantNamed)
			}
		})
	}
}

func TestRunNewSessionKeys(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-new-session-keys"}, mapEnv(nil), &stdout, &stderr); err != nil {
		t.Fatalf("run(-new-session-keys) = %v; want nil", err)
	}
	value := strings.TrimSpace(stdout.String())
	keys, err := config.ParseSessionKeys(value)
	if err != nil {
		t.Fatalf("run(-new-session-keys) printed %q, which ParseSessionKeys refuses: %v", value, err)
	}
	if len(keys) != 2 {
		t.Errorf("run(-new-session-keys) printed %d keys; want one pair", len(keys))
	}
	if stderr.Len() > 0 {
		t.Errorf("run(-new-session-keys) wrote to stderr: %q", stderr.String())
	}
}

// With DRAIN_DELAY, a stop first turns /readyz to 503 while pages are still
// served, so a load balancer stops sending people here before the server
// stops taking requests.
func TestReadyzTurnsUnreadyBeforeShutdown(t *testing.T) {
	addr := freeAddr(t)
	r := startRun(t, map[string]string{"ADDR": addr, "SANDBOX_ADDR": freeAddr(t), "DRAIN_DELAY": "3s"})
	ready := func() int {
		t.Helper()
		resp, err := http.Get(r.url + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("GET /readyz = %d before the stop; want 200", got)
	}
	r.cancel()
	deadline := time.After(3 * time.Second)
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for ready() != http.StatusServiceUnavailable {
		select {
		case <-deadline:
			t.Fatalf("GET /readyz never answered 503 during the drain delay")
		case <-poll.C:
		}
	}
	resp, err := http.Get(r.url + "/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / while draining = %v, %v; want 200: pages are still served", resp, err)
	}
	resp.Body.Close()
	select {
	case <-r.done:
		if r.err != nil {
			t.Errorf("run() = %v; want nil", r.err)
		}
	case <-time.After(3*time.Second + shutdownTimeout):
		t.Fatalf("run() did not return after the drain delay and shutdown")
	}
}

func TestRunHelpSucceeds(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{"GOOGLE_CLIENT_SECRET": "GOCSPX-not-for-the-terminal", "SESSION_KEYS": config.NewSessionKeys()}
	if err := run(context.Background(), []string{"-h"}, mapEnv(env), &stdout, &stderr); err != nil {
		t.Errorf("run(-h) = %v; want nil, so the exit status is 0", err)
	}
	if !strings.Contains(stderr.String(), "-google-client-secret") {
		t.Errorf("run(-h) printed no usage:\n%s", stderr.String())
	}
	for name, value := range env {
		if strings.Contains(stdout.String()+stderr.String(), value) {
			t.Errorf("run(-h) printed the value of %s", name)
		}
	}
}

func TestRunSandboxSubcommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"sandbox", "-h"}, mapEnv(nil), &stdout, &stderr); err != nil {
		t.Errorf("run(sandbox -h) = %v; want nil", err)
	}
	if !strings.Contains(stderr.String(), "-redirect-uri") || strings.Contains(stderr.String(), "-google-client-secret") {
		t.Errorf("run(sandbox -h) printed other usage than the sandbox's:\n%s", stderr.String())
	}
}
