package web_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
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
