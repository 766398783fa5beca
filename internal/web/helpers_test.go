package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/sandbox"
)

const (
	hanako = "hanako.yamada@example.jp"
	alex   = "alex@example.com"
	empty  = "empty@example.com"
)

func start(t *testing.T, opts apptest.Options) (*apptest.Env, *apptest.App) {
	t.Helper()
	env := apptest.Start(t, opts)
	return env, env.Apps[0]
}

func wantStatus(t *testing.T, resp *apptest.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %d; want %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, clipBody(resp.Body))
	}
}

func wantRedirect(t *testing.T, resp *apptest.Response, status int, location string) {
	t.Helper()
	wantStatus(t, resp, status)
	if got := resp.Header.Get("Location"); got != location {
		t.Fatalf("%s %s: Location = %q; want %q", resp.Request.Method, resp.Request.URL.Path, got, location)
	}
}

func clipBody(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// heading is the page's h1 text.
func heading(t *testing.T, resp *apptest.Response) string {
	t.Helper()
	h1 := apptest.Find(apptest.Parse(t, resp.Body), "h1")
	if h1 == nil {
		t.Fatalf("%s: no h1\n%s", resp.Request.URL.Path, clipBody(resp.Body))
	}
	return apptest.Text(h1)
}

// startNotice is the note the start page shows b after a sign-out the
// person did not ask for, or "" when it shows none.
func startNotice(t *testing.T, b *apptest.Browser, app *apptest.App) string {
	t.Helper()
	notice := apptest.Find(apptest.Parse(t, b.Get(t, app.URL+"/").Body), "p.notice")
	if notice == nil {
		return ""
	}
	return apptest.Text(notice)
}

func messageCount(t *testing.T, resp *apptest.Response) int {
	t.Helper()
	return len(apptest.FindAll(apptest.Parse(t, resp.Body), "li.message"))
}

func newKeys(t *testing.T) [][]byte {
	t.Helper()
	keys, err := config.ParseSessionKeys(config.NewSessionKeys())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func newGmailService(t *testing.T) *gmail.Service {
	t.Helper()
	service, err := gmail.NewService(gmail.Config{BaseURL: "http://127.0.0.1:1", CallTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return service
}

// signInElsewhere signs account in with a second browser, as after a
// cleared cookie or on another device: Google gives that sign-in no refresh
// token.
func signInElsewhere(t *testing.T, app *apptest.App, account string) *apptest.Browser {
	t.Helper()
	first := apptest.NewBrowser(t)
	first.SignIn(t, app, account)
	second := apptest.NewBrowser(t)
	second.SignIn(t, app, account)
	return second
}

// followRenewal follows a silent re-authorization that resp started, as a
// browser does, and returns the app's answer at the end of the callback.
func followRenewal(t *testing.T, b *apptest.Browser, env *apptest.Env, resp *apptest.Response) *apptest.Response {
	t.Helper()
	wantStatus(t, resp, http.StatusFound)
	google := resp.Location(t)
	if !strings.HasPrefix(google.String(), env.SandboxURL+sandbox.AuthPath+"?") || google.Query().Get("prompt") != "none" {
		t.Fatalf("GET %s = 302 to %s; want a silent re-authorization (prompt=none) at the sandbox", resp.Request.URL.Path, google)
	}
	answer := b.Get(t, google.String())
	if answer.StatusCode != http.StatusFound {
		t.Fatalf("GET %s with prompt=none = %d; want 302 and no page\n%s", sandbox.AuthPath, answer.StatusCode, clipBody(answer.Body))
	}
	return b.Get(t, answer.Location(t).String())
}
