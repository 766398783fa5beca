// Package apptest runs the app and its sandbox Google on loopback for tests:
// the web handler tests, the multi-instance test, the load test and the
// browser tests all start the same pieces the same way, and the app is
// built by app.New from a config.Load result, as main builds it.
package apptest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/net/html"

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
	Strategy    gmail.Strategy
	PageTimeout time.Duration
	CallTimeout time.Duration
	Now         func() time.Time
	Logger      *slog.Logger // default: discard
	// Config and Deps, when set, change each instance's settings and
	// dependencies before it is built.
	Config func(*config.Config)
	Deps   func(*app.Deps)
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
	env.Sandbox, env.SandboxURL, env.secret = sb, "http://"+serve(t, sb, opts.Logger), secret

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
		Strategy: e.opts.Strategy,
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

// Browser is a cookie-keeping HTTP client that, like a person's browser,
// holds one session, but lets the test see every redirect.
type Browser struct {
	Client *http.Client
	Jar    *cookiejar.Jar
	// Language is the Accept-Language sent with every request, as a
	// browser's settings send it; "" sends none.
	Language string
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{
		Jar: jar,
		Client: &http.Client{
			Jar:     jar,
			Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// Response is a finished response with its body read.
type Response struct {
	*http.Response
	Body []byte
}

// Location is the parsed Location header.
func (r *Response) Location(t testing.TB) *url.URL {
	t.Helper()
	loc, err := r.Response.Location()
	if err != nil {
		t.Fatalf("%s %s = %d: no Location: %v", r.Request.Method, r.Request.URL.Path, r.StatusCode, err)
	}
	return loc
}

// Do sends req and reads the whole body.
func (b *Browser) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	if b.Language != "" && req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", b.Language)
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return &Response{Response: resp, Body: body}
}

// Get fetches an absolute URL.
func (b *Browser) Get(t testing.TB, rawURL string) *Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.Do(t, req)
}

// PostForm posts a form the way a browser does from a page of origin.
func (b *Browser) PostForm(t testing.TB, rawURL, origin string, form url.Values) *Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return b.Do(t, req)
}

// Consent is what a sign-in reached at the sandbox's consent page.
type Consent struct {
	Page   *Response
	Action string     // where the consent form posts
	Form   url.Values // the form as a person leaves it by default
}

// StartSignIn follows /oauth to the sandbox consent page.
func (b *Browser) StartSignIn(t testing.TB, app *App) *Consent {
	t.Helper()
	resp := b.Get(t, app.URL+"/oauth")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /oauth = %d; want 302", resp.StatusCode)
	}
	return b.OpenConsent(t, resp.Location(t).String())
}

// OpenConsent fetches the sandbox consent page at authURL, an
// authorization request, and reads its form.
func (b *Browser) OpenConsent(t testing.TB, authURL string) *Consent {
	t.Helper()
	page := b.Get(t, authURL)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET consent page = %d; want 200\n%s", page.StatusCode, page.Body)
	}
	action, form := ParseForm(t, page)
	return &Consent{Page: page, Action: action, Form: form}
}

// Decide submits the consent form with the button value "allow" or "deny"
// and returns the sandbox's redirect back to the app (not followed).
func (b *Browser) Decide(t testing.TB, c *Consent, decision string) *Response {
	t.Helper()
	c.Form.Set("decision", decision)
	origin := c.Page.Request.URL.Scheme + "://" + c.Page.Request.URL.Host
	resp := b.PostForm(t, c.Action, origin, c.Form)
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("POST consent = %d; want a redirect\n%s", resp.StatusCode, resp.Body)
	}
	return resp
}

// SignIn runs the whole sign-in as account and checks it lands on /home.
func (b *Browser) SignIn(t testing.TB, app *App, account string) {
	t.Helper()
	consent := b.StartSignIn(t, app)
	if account != "" {
		consent.Form.Set("account", account)
	}
	back := b.Decide(t, consent, "allow")
	resp := b.Get(t, back.Location(t).String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/home" {
		t.Fatalf("GET /callback = %d to %q; want 303 to /home\n%s", resp.StatusCode, resp.Header.Get("Location"), resp.Body)
	}
}

// ParseForm reads the first form of a page as a browser would submit it:
// hidden and text inputs, checked radios and checkboxes.
func ParseForm(t testing.TB, page *Response) (action string, form url.Values) {
	t.Helper()
	doc := Parse(t, page.Body)
	formNode := Find(doc, "form")
	if formNode == nil {
		t.Fatalf("%s: no form\n%s", page.Request.URL.Path, page.Body)
	}
	ref, err := url.Parse(Attr(formNode, "action"))
	if err != nil {
		t.Fatal(err)
	}
	action = page.Request.URL.ResolveReference(ref).String()
	form = url.Values{}
	for _, input := range FindAll(formNode, "input") {
		name := Attr(input, "name")
		if name == "" {
			continue
		}
		switch Attr(input, "type") {
		case "radio", "checkbox":
			if hasAttr(input, "checked") {
				form.Add(name, Attr(input, "value"))
			}
		default:
			form.Add(name, Attr(input, "value"))
		}
	}
	return action, form
}

// Parse parses an HTML page.
func Parse(t testing.TB, body []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

// Find returns the first element named tag, depth first, or nil.
func Find(n *html.Node, tag string) *html.Node {
	all := FindAll(n, tag)
	if len(all) == 0 {
		return nil
	}
	return all[0]
}

// FindAll returns every element named tag below n. A tag of the form
// "li.message" also requires the class.
func FindAll(n *html.Node, tag string) []*html.Node {
	name, class, _ := strings.Cut(tag, ".")
	var found []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == name && (class == "" || hasClass(c, class)) {
				found = append(found, c)
			}
			walk(c)
		}
	}
	walk(n)
	return found
}

// Attr returns an attribute's value, or "".
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasAttr reports whether the element has the attribute at all.
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// hasClass reports whether the element's class list holds class.
func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(Attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// Text is the element's text content with white space folded.
func Text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// Clock is a settable clock for Options.Now, shared by the app and its
// sandbox, so a test moves both past a token's expiry without sleeping. It
// stands still unless moved.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at the wall clock's time.
func NewClock() *Clock { return NewClockAt(time.Now()) }

// NewClockAt returns a clock standing at t, for tests that start at a
// known time.
func NewClockAt(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
