// Package apptest runs the app and its sandbox Google on loopback for tests:
// the web handler tests, the multi-instance test, the load test and the
// browser tests all start the same pieces the same way, and the app is
// built by app.New from a config.Load result, as main builds it.
package apptest

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"gmailoauth/internal/app"
	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/metrics"
	"gmailoauth/internal/sandbox"
	"gmailoauth/internal/web"
)

// Options change how Start builds the environment. Zero values keep what
// production does, except where noted.
type Options struct {
	Instances int // app instances sharing the sandbox; default 1
	// PublicURL, when set, is where people reach the instances, as through
	// a proxy: every instance's REDIRECT_URL is PublicURL+"/callback", the
	// one the sandbox registers.
	PublicURL   string
	SessionKeys [][]byte // default: one fresh pair
	Cache       *gmail.Cache
	PageTimeout time.Duration
	CallTimeout time.Duration
	Now         func() time.Time
	Logger      *slog.Logger // default: discard
	// Config and Deps, when set, change each instance's settings and
	// dependencies before it is built.
	Config func(*config.Config)
	Deps   func(*app.Deps)
	// WrapSandbox, when set, stands between the network and the sandbox,
	// for tests that watch or hold what the app sends to Google.
	WrapSandbox func(http.Handler) http.Handler
}

// Env is a sandbox Google and one or more app instances on loopback.
type Env struct {
	Sandbox    *sandbox.Server
	SandboxURL string
	Apps       []*App
	opts       Options
	secret     string // the client secret the sandbox holds for the app
}

// App is one running instance of the web app.
type App struct {
	URL     string
	Server  *web.Server
	Metrics *metrics.Metrics
	handler swappable
	addr    string // host:port it listens on
}

// swappable lets a listener exist before its handler, so the redirect URL,
// which needs the port, can be part of the app's options.
type swappable struct {
	mu sync.RWMutex
	h  http.Handler
}

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	h := s.h
	s.mu.RUnlock()
	h.ServeHTTP(w, r)
}

func (s *swappable) set(h http.Handler) {
	s.mu.Lock()
	s.h = h
	s.mu.Unlock()
}

// Start runs the environment until the test ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	if opts.Instances == 0 {
		opts.Instances = 1
	}
	if opts.SessionKeys == nil {
		keys, err := config.ParseSessionKeys(config.NewSessionKeys())
		if err != nil {
			t.Fatal(err)
		}
		opts.SessionKeys = keys
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	env := &Env{opts: opts}
	var redirects []string
	for range opts.Instances {
		a := &App{}
		a.handler.set(http.NotFoundHandler())
		a.addr = serve(t, &a.handler, opts.Logger)
		a.URL = "http://" + a.addr
		redirects = append(redirects, a.URL+"/callback")
		env.Apps = append(env.Apps, a)
	}
	if opts.PublicURL != "" {
		redirects = []string{opts.PublicURL + "/callback"}
	}
	secret := rand.Text()
	sb, err := sandbox.New(sandbox.Options{
		ClientID:     sandbox.ClientID,
		ClientSecret: secret,
		RedirectURIs: redirects,
		Strict:       true,
		Now:          opts.Now,
		Logger:       opts.Logger,
	})
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	var handler http.Handler = sb
	if opts.WrapSandbox != nil {
		handler = opts.WrapSandbox(sb)
	}
	env.Sandbox, env.SandboxURL, env.secret = sb, "http://"+serve(t, handler, opts.Logger), secret

	for i := range env.Apps {
		env.Restart(t, i, opts.SessionKeys)
	}
	return env
}

// serve serves h on a loopback port, as main serves the app and the
// sandbox, until the test ends, and returns its host:port.
func serve(t testing.TB, h http.Handler, log *slog.Logger) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config = app.NewHTTPServer(h, log)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// Restart replaces instance i's server with one using keys, as a deploy
// with rotated SESSION_KEYS would; the URL stays the same. Start uses it to
// build every instance the first time.
func (e *Env) Restart(t testing.TB, i int, keys [][]byte) {
	t.Helper()
	a := e.Apps[i]
	built := e.newServer(t, a, keys)
	a.Server, a.Metrics = built.Web, built.Metrics
	a.handler.set(a.Server)
}

// newServer builds the app as main does: settings through config.Load,
// then app.New, with the sandbox's endpoints in place of Google's.
func (e *Env) newServer(t testing.TB, a *App, keys [][]byte) *app.App {
	t.Helper()
	var encoded []string
	for _, key := range keys {
		encoded = append(encoded, base64.StdEncoding.EncodeToString(key))
	}
	endpoints := sandbox.EndpointsAt(e.SandboxURL)
	settings := map[string]string{
		"ADDR":                 a.addr,
		"GOOGLE_CLIENT_ID":     sandbox.ClientID,
		"GOOGLE_CLIENT_SECRET": e.secret,
		"GOOGLE_AUTH_URL":      endpoints.AuthURL,
		"GOOGLE_TOKEN_URL":     endpoints.TokenURL,
		"GOOGLE_REVOKE_URL":    endpoints.RevokeURL,
		"GMAIL_API_URL":        endpoints.GmailAPIURL,
		"SESSION_KEYS":         strings.Join(encoded, ","),
	}
	if e.opts.PublicURL != "" {
		settings["REDIRECT_URL"] = e.opts.PublicURL + "/callback"
	}
	if e.opts.PageTimeout > 0 {
		settings["GMAIL_PAGE_TIMEOUT"] = e.opts.PageTimeout.String()
	}
	if e.opts.CallTimeout > 0 {
		settings["GMAIL_CALL_TIMEOUT"] = e.opts.CallTimeout.String()
	}
	cfg, err := config.Load(nil, func(name string) string { return settings[name] }, io.Discard)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	if e.opts.Config != nil {
		e.opts.Config(&cfg)
	}
	deps := app.Deps{
		Templates:  Templates(t),
		Static:     Static(t),
		Logger:     e.opts.Logger,
		SandboxURL: e.SandboxURL,
		MessageURL: func(account, id string) string {
			return sandbox.MessageURL(e.SandboxURL, account, id)
		},
		Cache:    e.opts.Cache,
		Now:      e.opts.Now,
		Location: time.UTC,
	}
	if e.opts.Deps != nil {
		e.opts.Deps(&deps)
	}
	built, err := app.New(cfg, deps)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	return built
}

// repoRoot is the module root, found from this file's location so tests in
// any package read the real templates and stylesheet.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("apptest: cannot locate the module root")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Templates is the app's real templates directory.
func Templates(t testing.TB) fs.FS { return os.DirFS(filepath.Join(repoRoot(t), "templates")) }

// Static is the app's real static directory.
func Static(t testing.TB) fs.FS { return os.DirFS(filepath.Join(repoRoot(t), "static")) }

// MapFS copies a directory, such as Templates or Static, into memory so a
// test can break or change one of its files.
func MapFS(t testing.TB, dir fs.FS) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(dir, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(dir, path)
		m[path] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
