package web_test

import (
	"testing"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
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
	service, err := gmail.NewService(gmail.Config{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return service
}
