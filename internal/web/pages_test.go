package web_test

import (
	"net/http"
	"strings"
	"testing"

	"gmailoauth/internal/apptest"
)

func TestIndex(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	resp := b.Get(t, app.URL+"/")
	wantStatus(t, resp, http.StatusOK)
	doc := apptest.Parse(t, resp.Body)
	if got := apptest.Text(apptest.Find(doc, "title")); got != "OAuth sample" {
		t.Errorf("title = %q; want OAuth sample", got)
	}
	var connect bool
	for _, a := range apptest.FindAll(doc, "a") {
		if apptest.Text(a) == "Connect to Gmail" && apptest.Attr(a, "href") == "/oauth" {
			connect = true
		}
	}
	if !connect {
		t.Errorf("GET / has no \"Connect to Gmail\" link to /oauth")
	}
	if banner := apptest.Find(doc, "div.sandbox"); banner == nil || !strings.Contains(apptest.Text(banner), "Sandbox mode") {
		t.Errorf("GET / has no sandbox banner")
	}
	if apptest.Find(doc, "html") == nil || apptest.Attr(apptest.Find(doc, "html"), "lang") != "en" {
		t.Errorf("GET /: html lang not set")
	}
}

// Every error page is the app's own, whichever route answers it, and no
// cache may keep it.
func TestErrorPagesAreTheAppsAndNotStored(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	tests := []struct {
		method, path string
		fetchSite    string // Sec-Fetch-Site
		status       int
		h1, allow    string
	}{
		{method: "GET", path: "/nope", fetchSite: "same-origin", status: 404, h1: "Page not found"},
		{method: "GET", path: "/static/", fetchSite: "same-origin", status: 404, h1: "Page not found"},
		{method: "GET", path: "/static/missing.css", fetchSite: "same-origin", status: 404, h1: "Page not found"},
		{method: "GET", path: "/static/missing/", fetchSite: "same-origin", status: 404, h1: "Page not found"},
		{method: "GET", path: "/logout", fetchSite: "same-origin", status: 405, h1: "That doesn't work here", allow: "POST"},
		{method: "POST", path: "/home", fetchSite: "same-origin", status: 405, h1: "That doesn't work here", allow: "GET, HEAD"},
		{method: "POST", path: "/logout", fetchSite: "cross-site", status: 403, h1: "Request refused"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, app.URL+tt.path, nil)
		req.Header.Set("Sec-Fetch-Site", tt.fetchSite)
		resp := b.Do(t, req)
		wantStatus(t, resp, tt.status)
		if got := heading(t, resp); got != tt.h1 {
			t.Errorf("%s %s: h1 = %q; want %q", tt.method, tt.path, got, tt.h1)
		}
		if got := resp.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q; want %q", tt.method, tt.path, got, tt.allow)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s = %d: Cache-Control = %q; want no-store", tt.method, tt.path, tt.status, got)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	for _, tt := range []struct{ path, contentType string }{
		{path: "/static/style.css", contentType: "text/css"},
		{path: "/static/favicon.svg", contentType: "image/svg+xml"},
		{path: "/favicon.ico", contentType: "image/svg+xml"},
	} {
		resp := b.Get(t, app.URL+tt.path)
		wantStatus(t, resp, http.StatusOK)
		if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.contentType) {
			t.Errorf("GET %s Content-Type = %q; want %s", tt.path, got, tt.contentType)
		}
		if got := resp.Header.Get("Cache-Control"); !strings.Contains(got, "max-age=") {
			t.Errorf("GET %s Cache-Control = %q; want a max-age", tt.path, got)
		}
	}
	wantStatus(t, b.Get(t, app.URL+"/healthz"), http.StatusOK)
	wantStatus(t, b.Get(t, app.URL+"/readyz"), http.StatusOK)
	app.Server.Drain()
	wantStatus(t, b.Get(t, app.URL+"/readyz"), http.StatusServiceUnavailable)
	wantStatus(t, b.Get(t, app.URL+"/healthz"), http.StatusOK)
}
