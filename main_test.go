package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
)

// hangGuard only turns a hang into a failure: nothing the tests wait for
// takes a fraction of it on any machine, so it is no time budget.
const hangGuard = time.Minute

// listener is a loopback listener the test binds before run() starts, so
// no other process can take its port in between (as one could, were the
// test to find a free port, free it and hand run() its number). It tells
// whether run() was given it, and when it was closed.
type listener struct {
	net.Listener
	given  atomic.Bool
	once   sync.Once
	closed chan struct{}
}

func (l *listener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.closed) })
	return err
}

// bind returns a listener on a free loopback port, closed at the test's
// end if run() did not close it.
func bind(t *testing.T) *listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bound := &listener{Listener: l, closed: make(chan struct{})}
	t.Cleanup(func() { bound.Close() })
	return bound
}

// bindEnv binds a listener for the app and one for the sandbox and sets
// env's ADDR and SANDBOX_ADDR to their addresses.
func bindEnv(t *testing.T, env map[string]string) (app, sandbox *listener) {
	t.Helper()
	app, sandbox = bind(t), bind(t)
	env["ADDR"], env["SANDBOX_ADDR"] = app.Addr().String(), sandbox.Addr().String()
	return app, sandbox
}

// listenOn is run()'s listen for a test: it hands out ls by their
// address, and listens as net.Listen does on any other.
func listenOn(ls ...*listener) func(network, address string) (net.Listener, error) {
	return func(network, address string) (net.Listener, error) {
		for _, l := range ls {
			if l.Addr().String() == address {
				l.given.Store(true)
				return l, nil
			}
		}
		return net.Listen(network, address)
	}
}

// noListen is run()'s listen for runs that must end before serving.
func noListen(t *testing.T) func(network, address string) (net.Listener, error) {
	return func(network, address string) (net.Listener, error) {
		t.Errorf("run() listened on %s; want it to end before listening", address)
		return nil, errors.New("the test allows no listening")
	}
}

// running is run() started in a goroutine.
type running struct {
	url          string
	app, sandbox *listener
	logs         *apptest.LogBuffer
	stop         chan os.Signal // what SIGINT and SIGTERM reach through signal.Notify
	done         chan struct{}  // closed when run() has returned err
	err          error
}

// startRun starts run() with env as its whole environment, serving on app
// and sandbox (which env names), and waits until it answers /healthz. The
// test's cleanup stops it if the test did not.
func startRun(t *testing.T, env map[string]string, app, sandbox *listener, more ...*listener) *running {
	t.Helper()
	r := &running{
		url: "http://" + app.Addr().String(), app: app, sandbox: sandbox, logs: &apptest.LogBuffer{},
		stop: make(chan os.Signal, 2), done: make(chan struct{}),
	}
	go func() {
		defer close(r.done)
		r.err = run(r.stop, nil, mapEnv(env), listenOn(append([]*listener{app, sandbox}, more...)...), r.logs, r.logs)
	}()
	t.Cleanup(func() {
		r.stop <- syscall.SIGTERM
		r.stop <- syscall.SIGTERM // past any drain delay
		select {
		case <-r.done:
		case <-time.After(hangGuard):
			t.Errorf("run() still running %v after two stop signals", hangGuard)
		}
	})

	// The listener is bound already, so the request waits for run() to
	// serve it, or fails when run() closes the listener on an error.
	healthy := make(chan error, 1)
	go func() {
		resp, err := http.Get(r.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		healthy <- err
	}()
	select {
	case err := <-healthy:
		if err != nil {
			t.Fatalf("GET /healthz: %v; want 200\n%s", err, r.logs)
		}
	case <-r.done:
		t.Fatalf("run() = %v before answering /healthz\n%s", r.err, r.logs)
	}
	return r
}

// refused reports whether a connection to l's address is refused now.
func refused(l *listener) bool {
	conn, err := net.Dial("tcp", l.Addr().String())
	if err == nil {
		conn.Close()
	}
	return errors.Is(err, syscall.ECONNREFUSED)
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
	env := map[string]string{}
	appListener, sandboxListener := bindEnv(t, env)
	gmail := newSlowGmail(t, env["SANDBOX_ADDR"])
	env["GMAIL_API_URL"] = gmail.URL
	r := startRun(t, env, appListener, sandboxListener)
	app := &apptest.App{URL: r.url}

	browsers := make([]*apptest.Browser, inFlight)
	for i := range browsers {
		browsers[i] = newBrowser(t)
		browsers[i].SignIn(t, app, "")
	}

	// Load that runs across the stop: each response must be whole and 200;
	// once the stop has come, failing to connect is what should happen.
	// stopped is written before the stop and read after the loaders report.
	// Each loader is served once before the stop comes, however slow the
	// machine, and stops after maxLoads or once the stop is over.
	var stopped time.Time
	stopLoad := make(chan struct{})
	loadResults := make(chan []result, loaders)
	servedOnce := make(chan struct{}, loaders)
	for range loaders {
		b := newBrowser(t)
		go func() {
			var seen []result
			for i := 0; i < maxLoads; i++ {
				res := getPage(b, r.url+"/")
				seen = append(seen, res)
				if i == 0 {
					servedOnce <- struct{}{}
				}
				if res.err != nil || closed(stopLoad) {
					break
				}
			}
			loadResults <- seen
		}()
	}
	for range loaders {
		<-servedOnce
	}

	gmail.hold(inFlight)
	pages := make(chan result, inFlight)
	for _, b := range browsers {
		go func() { pages <- getPage(b, r.url+"/home") }()
	}
	waitArrivals(t, gmail.arrivals, inFlight)

	stopped = time.Now()
	r.stop <- syscall.SIGTERM

	// New connections are refused while the held page views drain.
	select {
	case <-r.app.closed:
	case <-time.After(hangGuard):
		t.Fatalf("after the stop, with %d requests in flight, the app's listener is still open after %v", inFlight, hangGuard)
	}
	if !refused(r.app) {
		t.Errorf("after the stop, with %d requests in flight, a new connection was not refused", inFlight)
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
			}
		case <-time.After(hangGuard):
			t.Fatalf("GET /home in flight at the stop: no answer within %v", hangGuard)
		}
	}

	// run() returning nil says the shutdown ended within shutdownTimeout:
	// past it, http.Server.Shutdown returns its context's error.
	select {
	case <-r.done:
		if r.err != nil {
			t.Errorf("run() = %v after the stop; want nil", r.err)
		}
	case <-time.After(hangGuard):
		t.Fatalf("run() did not return within %v of the stop\n%s", hangGuard, r.logs)
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
	if !closed(r.sandbox.closed) || !refused(r.sandbox) {
		t.Errorf("sandbox after run() returned: its listener still open; want it closed too")
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

// waitArrivals waits for n signals on arrivals.
func waitArrivals(t *testing.T, arrivals <-chan struct{}, n int) {
	t.Helper()
	timeout := time.After(hangGuard)
	for i := range n {
		select {
		case <-arrivals:
		case <-timeout:
			t.Fatalf("%d of %d page views reached Gmail within %v", i, n, hangGuard)
		}
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
			env := map[string]string{}
			app, sandbox := bindEnv(t, env)
			env[tt.busy] = taken.Addr().String()

			done := make(chan error, 1)
			go func() { done <- run(nil, nil, mapEnv(env), listenOn(app, sandbox), io.Discard, io.Discard) }()
			select {
			case err := <-done:
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantError) || !strings.HasSuffix(err.Error(), "set "+tt.busy+" to another host:port") {
					t.Fatalf("run() with %s busy = %v; want an error starting %q that says to set %s to another host:port", tt.busy, err, tt.wantError, tt.busy)
				}
			case <-time.After(hangGuard):
				t.Fatalf("run() with %s busy still running after %v; want an error at once", tt.busy, hangGuard)
			}
			// Whatever run() had bound before failing is released.
			for name, l := range map[string]*listener{"ADDR": app, "SANDBOX_ADDR": sandbox} {
				if l.given.Load() && !closed(l.closed) {
					t.Errorf("after run() failed, the listener it was given for %s is still open", name)
				}
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
		{"METRICS_ADDR", "nowhere", "METRICS_ADDR"},
		{"INBOX_LIMIT", "-1", "INBOX_LIMIT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			app, sandbox := bindEnv(t, env)
			env[tt.name] = tt.value
			var stderr bytes.Buffer
			err := run(nil, nil, mapEnv(env), listenOn(app, sandbox), io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.wantNamed) {
				t.Errorf("run() with %s=%q = %v; want an error naming %s", tt.name, tt.value, err, tt.wantNamed)
			}
		})
	}
}

func TestRunNewSessionKeys(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(nil, []string{"-new-session-keys"}, mapEnv(nil), noListen(t), &stdout, &stderr); err != nil {
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
// stops taking requests; a second stop ends the drain early. The delay is
// an hour, so the drain cannot end before the test has seen it.
func TestReadyzTurnsUnreadyBeforeShutdown(t *testing.T) {
	env := map[string]string{"DRAIN_DELAY": "1h"}
	app, sandbox := bindEnv(t, env)
	r := startRun(t, env, app, sandbox)
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
	r.stop <- syscall.SIGTERM
	deadline := time.After(hangGuard)
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for ready() != http.StatusServiceUnavailable {
		select {
		case <-deadline:
			t.Fatalf("GET /readyz did not answer 503 within %v of the stop, an hour before the drain ends", hangGuard)
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
		t.Fatalf("run() = %v during the drain delay; want it still serving", r.err)
	default:
	}
	r.stop <- syscall.SIGTERM
	select {
	case <-r.done:
		if r.err != nil {
			t.Errorf("run() = %v; want nil", r.err)
		}
	case <-time.After(hangGuard):
		t.Fatalf("run() still draining %v after a second stop signal", hangGuard)
	}
	if !strings.Contains(r.logs.String(), "second stop signal") {
		t.Errorf("run() did not log the second stop signal:\n%s", r.logs)
	}
}

func TestRunHelpSucceeds(t *testing.T) {
	var stdout, stderr bytes.Buffer
	env := map[string]string{"GOOGLE_CLIENT_SECRET": "GOCSPX-not-for-the-terminal", "SESSION_KEYS": config.NewSessionKeys()}
	if err := run(nil, []string{"-h"}, mapEnv(env), noListen(t), &stdout, &stderr); err != nil {
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

func TestRunUnknownFlagIsOneLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(nil, []string{"-port", "5050"}, mapEnv(nil), noListen(t), &stdout, &stderr)
	if err == nil || err.Error() != "flag provided but not defined: -port; see -h" || stdout.Len()+stderr.Len() > 0 {
		t.Errorf("run(-port 5050) = %v, printing %q; want one line ending in \"see -h\" and nothing printed", err, stdout.String()+stderr.String())
	}
}

func TestRunSandboxSubcommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(nil, []string{"sandbox", "-h"}, mapEnv(nil), noListen(t), &stdout, &stderr); err != nil {
		t.Errorf("run(sandbox -h) = %v; want nil", err)
	}
	if !strings.Contains(stderr.String(), "-redirect-uri") || strings.Contains(stderr.String(), "-google-client-secret") {
		t.Errorf("run(sandbox -h) printed other usage than the sandbox's:\n%s", stderr.String())
	}
}

// TestRunServesMetricsApart checks METRICS_ADDR: the metrics on their own
// listener, in an exposition promtool accepts, and never on the app's
// address. It runs the app as main does, with its sandbox.
func TestRunServesMetricsApart(t *testing.T) {
	env := map[string]string{}
	app, sandbox := bindEnv(t, env)
	metricsListener := bind(t)
	env["METRICS_ADDR"] = metricsListener.Addr().String()
	r := startRun(t, env, app, sandbox, metricsListener)
	b := newBrowser(t)
	get := func(rawURL string, want int) []byte {
		t.Helper()
		resp, err := b.Client.Get(rawURL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("GET %s = %d; want %d", rawURL, resp.StatusCode, want)
		}
		return body
	}
	get(r.url+"/", http.StatusOK)
	b.SignIn(t, &apptest.App{URL: r.url}, "")
	get(r.url+"/home", http.StatusOK) // Gmail calls, the cache, a sign-in: every kind of series
	get(r.url+"/metrics", http.StatusNotFound)
	exposition := get("http://"+metricsListener.Addr().String()+"/metrics", http.StatusOK)
	if !bytes.Contains(exposition, []byte(`gmailoauth_http_requests_total{code="200",route="GET /{$}"} 1`)) {
		t.Errorf("metrics do not count the start page's view:\n%s", exposition)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("REQUIRE_PROMTOOL") == "1" {
			t.Fatalf("promtool not found (REQUIRE_PROMTOOL=1): %v", err)
		}
		t.Skip("promtool not found (Debian's prometheus package): the exposition is not linted")
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = bytes.NewReader(exposition)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
