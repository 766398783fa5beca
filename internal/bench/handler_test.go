package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/sandbox"
	"gmailoauth/internal/web"
)

// TestMain lets the test binary serve as the sandbox in a process of its
// own, so the handler benchmark counts the app's allocations and CPU time
// only.
func TestMain(m *testing.M) {
	if os.Getenv("BENCH_ROLE") == "sandbox" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		if err := serveSandbox(ctx, os.Args[1:], os.Stdout); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// appOrigin is where the benchmarked handler pretends to be; requests
// reach it by method call, not over the network.
const appOrigin = "http://app.test"

// BenchmarkView measures one view of a page through the app's whole
// handler (middleware, session, Gmail list call, render) with the sandbox
// in another process. Besides ns/op, allocs/op and B/op it reports the CPU
// time the process spent per view. The home-next-minute cases view the
// inbox a minute after the view before, as the app's clock tells, so the
// relative dates have changed and the list and page are rendered again
// (and the rows whose dates changed): the cost of a view when the page
// kept from the last one no longer serves.
func BenchmarkView(b *testing.B) {
	var elapsed atomic.Int64
	handler := startHandler(b, func() time.Time { return time.Now().Add(time.Duration(elapsed.Load())) })
	cookie := signInHandler(b, handler)
	for _, page := range []struct {
		name, path string
		headers    map[string]string
		nextMinute bool
	}{
		{name: "start-page", path: "/"},
		{name: "home", path: "/home", headers: map[string]string{"Cookie": cookie}},
		{name: "home-gzip", path: "/home", headers: map[string]string{"Cookie": cookie, "Accept-Encoding": "gzip"}},
		{name: "home-next-minute", path: "/home", headers: map[string]string{"Cookie": cookie}, nextMinute: true},
		{name: "home-next-minute-gzip", path: "/home", headers: map[string]string{"Cookie": cookie, "Accept-Encoding": "gzip"}, nextMinute: true},
	} {
		b.Run(page.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, appOrigin+page.path, nil)
			for k, v := range page.headers {
				req.Header.Set(k, v)
			}
			w := &discardWriter{header: http.Header{}}
			handler.ServeHTTP(w, req) // warms the cache
			if w.status != http.StatusOK {
				b.Fatalf("GET %s = %d; want 200", page.path, w.status)
			}
			b.ReportAllocs()
			cpu := processCPU()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if page.nextMinute {
					// Back and forth: a clock running on would expire the token.
					elapsed.Store(int64(i%2) * int64(time.Minute))
				}
				clear(w.header)
				w.status = 0
				handler.ServeHTTP(w, req)
			}
			b.StopTimer()
			if w.status != http.StatusOK {
				b.Fatalf("GET %s = %d; want 200", page.path, w.status)
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/view")
		})
	}
}

// startHandler starts the sandbox process and builds the app as main does,
// from the same settings, its Gmail calls going to that process, on the
// clock now.
func startHandler(b *testing.B, now func() time.Time) http.Handler {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-secret", "bench-secret", "-redirect", appOrigin+"/callback")
	cmd.Env = append(os.Environ(), "BENCH_ROLE=sandbox")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("sandbox process: %v", err)
	}
	sandboxURL := strings.TrimSpace(line)

	sb := sandbox.EndpointsAt(sandboxURL)
	env := map[string]string{
		"ADDR":                 "127.0.0.1:0",
		"REDIRECT_URL":         appOrigin + "/callback",
		"GOOGLE_CLIENT_ID":     sandbox.ClientID,
		"GOOGLE_CLIENT_SECRET": "bench-secret",
		"GOOGLE_AUTH_URL":      sb.AuthURL,
		"GOOGLE_TOKEN_URL":     sb.TokenURL,
		"GOOGLE_REVOKE_URL":    sb.RevokeURL,
		"GMAIL_API_URL":        sb.GmailAPIURL,
		"SESSION_KEYS":         config.NewSessionKeys(),
		"INBOX_LIMIT":          "0", // one session views /home without pause
	}
	cfg, err := config.Load(nil, func(name string) string { return env[name] }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	logs := newLogFile(b)
	deps := web.NewDeps(apptest.Templates(b), apptest.Static(b), slog.New(slog.NewTextHandler(logs, nil)))
	deps.Now = now
	server, err := web.New(cfg, deps)
	if err != nil {
		b.Fatal(err)
	}
	return server
}

// signInHandler signs in through the handler and the sandbox process and
// returns the Cookie header value.
func signInHandler(b *testing.B, handler http.Handler) string {
	b.Helper()
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, appOrigin+"/oauth", nil))
	consentURL, err := url.Parse(w.Header().Get("Location"))
	if err != nil || w.Code != http.StatusFound {
		b.Fatalf("GET /oauth = %d to %q; want 302", w.Code, w.Header().Get("Location"))
	}
	jar := map[string]string{}
	for _, c := range w.Result().Cookies() {
		jar[c.Name] = c.Value
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	back, err := allow(client, consentURL, "hanako.yamada@example.jp")
	if err != nil {
		b.Fatal(err)
	}
	callback := httptest.NewRequest(http.MethodGet, back.String(), nil)
	for name, value := range jar {
		callback.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, callback)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/home" {
		b.Fatalf("GET /callback = %d to %q; want 303 to /home", w.Code, w.Header().Get("Location"))
	}
	var cookies []string
	for _, c := range w.Result().Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	return strings.Join(cookies, "; ")
}

// newLogFile is where the app logs in the benchmark: a file, so the
// access log's cost is part of every view.
func newLogFile(b *testing.B) io.Writer {
	b.Helper()
	f, err := os.Create(b.TempDir() + "/app.log")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// discardWriter is a ResponseWriter that keeps the status and drops the
// body, so the benchmark counts the app's allocations, not a recorder's.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}

// processCPU is the CPU time, user and system, this process has used.
func processCPU() time.Duration {
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
