package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"gmailoauth/internal/apptest"
)

// The app never redirects to a URL taken from a request, and never builds a
// URL from the Host header: every Location is one of its own paths or the
// configured authorization endpoint.
func TestRedirectsNeverLeaveForRequestValues(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	hostile := []struct{ method, path string }{
		{method: "GET", path: "/oauth?next=https://evil.example/&redirect_uri=https://evil.example/cb"},
		{method: "GET", path: "/home?next=//evil.example"},
		{method: "GET", path: "/callback?state=x&code=y&next=https://evil.example"},
		{method: "POST", path: "/logout?next=https://evil.example"},
		{method: "GET", path: "//evil.example/"},
		{method: "GET", path: "/home/../oauth"},
	}
	for _, h := range hostile {
		req, _ := http.NewRequest(h.method, app.URL+h.path, nil)
		req.Host = "evil.example"
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("Referer", "https://evil.example/")
		resp := b.Do(t, req)
		loc := resp.Header.Get("Location")
		if loc == "" {
			continue
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Errorf("%s %s: Location %q: %v", h.method, h.path, loc, err)
			continue
		}
		// A path-only Location ("/evil.example/" after the mux cleans a
		// double slash) stays on this site; a host must be the sandbox's.
		if u.Host != "" && "http://"+u.Host != env.SandboxURL {
			t.Errorf("%s %s: Location = %q; want a path of the app or the sandbox's authorization endpoint", h.method, h.path, loc)
		}
		if u.Host != "" && u.Query().Get("redirect_uri") != app.URL+"/callback" {
			t.Errorf("%s %s: redirect_uri = %q; want the configured %s/callback", h.method, h.path, u.Query().Get("redirect_uri"), app.URL)
		}
	}
}
