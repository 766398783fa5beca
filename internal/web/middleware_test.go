package web_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/sandbox"
	"gmailoauth/internal/web"
)

func TestEveryResponseCarriesSecurityHeaders(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	requests := []struct{ method, path string }{
		{method: "GET", path: "/"},
		{method: "GET", path: "/oauth"},
		{method: "GET", path: "/callback"},
		{method: "GET", path: "/home"},
		{method: "POST", path: "/logout"},
		{method: "GET", path: "/static/style.css"},
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/nope"},
		{method: "GET", path: "/logout"},
		{method: "DELETE", path: "/"},
	}
	for _, r := range requests {
		req, _ := http.NewRequest(r.method, app.URL+r.path, nil)
		resp := b.Do(t, req)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s %s: Content-Security-Policy = %q", r.method, r.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s %s: nosniff=%q referrer=%q", r.method, r.path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	var logs apptest.LogBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys := newKeys(t)
	env, instance := start(t, apptest.Options{Logger: logger, SessionKeys: keys})
	env.Sandbox.SetAccessTokenTTL(5 * time.Second) // exercise refresh too
	b := apptest.NewBrowser(t)
	back := b.Decide(t, b.StartSignIn(t, instance), "allow").Location(t)
	b.Get(t, back.String())
	b.Get(t, instance.URL+"/home")
	b.Get(t, back.String()) // a replay, logged as a warning
	b.Get(t, instance.URL+"/callback?state=x&code=attacker-code-12345")
	env.Sandbox.InjectFaults(sandbox.Fault{Call: "list", Status: 403})
	b.Get(t, instance.URL+"/home")

	appURL, _ := url.Parse(instance.URL)
	sessionSecrets, err := web.SessionSecrets("gmail_session", b.Jar.Cookies(appURL)[0].Value, keys)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{back.Query().Get("code"), back.Query().Get("state"), "attacker-code-12345"}
	secrets = append(secrets, sessionSecrets...)
	b.PostForm(t, instance.URL+"/logout", instance.URL, nil)

	out := logs.String()
	if !strings.Contains(out, "route=") {
		t.Fatalf("no access log lines captured:\n%s", out)
	}
	for _, secret := range secrets {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("a log line holds a secret value %.12q…", secret)
		}
	}
}

// TestFormBodiesAreBounded checks that the app reads at most a few
// kilobytes of a form, and only url-encoded ones, from anyone: the
// language switch needs no sign-in.
func TestFormBodiesAreBounded(t *testing.T) {
	_, app := start(t, apptest.Options{})
	switchTo := url.Values{"lang": {"ja"}, "next": {"/"}}.Encode()
	tests := []struct {
		name, path, contentType, body string
		want                          int
	}{
		{name: "the switch's own form", path: "/language", contentType: "application/x-www-form-urlencoded", body: switchTo, want: http.StatusSeeOther},
		{name: "a form just under the bound", path: "/language", contentType: "application/x-www-form-urlencoded",
			body: switchTo + "&pad=" + strings.Repeat("x", 4<<10-len(switchTo)-len("&pad=")), want: http.StatusSeeOther},
		{name: "a form over the bound", path: "/language", contentType: "application/x-www-form-urlencoded",
			body: switchTo + "&pad=" + strings.Repeat("x", 4<<10), want: http.StatusRequestEntityTooLarge},
		{name: "10 MB", path: "/language", contentType: "application/x-www-form-urlencoded",
			body: switchTo + "&pad=" + strings.Repeat("x", 10<<20), want: http.StatusRequestEntityTooLarge},
		{name: "multipart", path: "/language", contentType: "multipart/form-data; boundary=x",
			body: "--x\r\nContent-Disposition: form-data; name=\"lang\"\r\n\r\nja\r\n--x--\r\n", want: http.StatusUnsupportedMediaType},
		{name: "no type", path: "/language", body: switchTo, want: http.StatusUnsupportedMediaType},
		{name: "sign-out's empty form", path: "/logout", contentType: "application/x-www-form-urlencoded", want: http.StatusSeeOther},
		{name: "sign-out with no body and no type", path: "/logout", want: http.StatusSeeOther},
		{name: "sign-out over the bound", path: "/logout", contentType: "application/x-www-form-urlencoded",
			body: strings.Repeat("x", 5<<10), want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := apptest.NewBrowser(t)
			req, err := http.NewRequest(http.MethodPost, app.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp := b.Do(t, req)
			wantStatus(t, resp, tt.want)
			if tt.want != http.StatusSeeOther && len(resp.Cookies()) > 0 {
				t.Errorf("POST %s refused with %d set cookies %v; want none", tt.path, resp.StatusCode, resp.Cookies())
			}
		})
	}
}

// TestPublicOriginIsTrustedWhateverItsCase checks a form posted from the
// public origin that REDIRECT_URL names, as a browser behind a proxy posts
// it: the browser sends the host in lower case, however the operator wrote
// it.
func TestPublicOriginIsTrustedWhateverItsCase(t *testing.T) {
	_, app := start(t, apptest.Options{Config: func(c *config.Config) {
		c.RedirectURL = "https://App.Example.COM/callback"
	}})
	b := apptest.NewBrowser(t)
	form := url.Values{"lang": {"ja"}, "next": {"/"}}
	req, err := http.NewRequest(http.MethodPost, app.URL+"/language", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://app.example.com")
	wantStatus(t, b.Do(t, req), http.StatusSeeOther)
}
