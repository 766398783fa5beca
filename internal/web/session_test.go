package web_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/web"
)

func TestSessionCookieAttributes(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	resp := b.Get(t, app.URL+"/oauth")
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("GET /oauth set %d cookies; want 1", len(cookies))
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.MaxAge <= 0 {
		t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q Secure=%v MaxAge=%d; want true Lax / false (http) >0",
			c.Name, c.HttpOnly, c.SameSite, c.Path, c.Secure, c.MaxAge)
	}
}

func TestHTTPSMeansSecureCookiesAndHSTS(t *testing.T) {
	tests := []struct {
		name        string
		redirectURL string
		wantHTTPS   bool
	}{
		{name: "https", redirectURL: "https://mail.example.com/callback", wantHTTPS: true},
		{name: "scheme in capitals", redirectURL: "HTTPS://mail.example.com/callback", wantHTTPS: true},
		{name: "http", redirectURL: "http://mail.example.com/callback", wantHTTPS: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, app := start(t, apptest.Options{Config: func(c *config.Config) { c.RedirectURL = tt.redirectURL }})
			b := apptest.NewBrowser(t)
			resp := b.Get(t, app.URL+"/oauth")
			c := resp.Cookies()[0]
			if secure := c.Secure && strings.HasPrefix(c.Name, "__Host-"); secure != tt.wantHTTPS {
				t.Errorf("REDIRECT_URL %s: cookie %s Secure=%v; want Secure with the __Host- prefix: %v", tt.redirectURL, c.Name, c.Secure, tt.wantHTTPS)
			}
			for _, path := range []string{"/", "/oauth", "/static/style.css", "/nope"} {
				got := b.Get(t, app.URL+path).Header.Get("Strict-Transport-Security")
				if want := map[bool]string{true: "max-age=31536000", false: ""}[tt.wantHTTPS]; got != want {
					t.Errorf("REDIRECT_URL %s: GET %s Strict-Transport-Security = %q; want %q", tt.redirectURL, path, got, want)
				}
			}
		})
	}
}

func TestTamperedAndForeignCookies(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	appURL, _ := url.Parse(app.URL)
	cookie := b.Jar.Cookies(appURL)[0]

	other := apptest.Start(t, apptest.Options{})
	foreign := apptest.NewBrowser(t)
	foreign.SignIn(t, other.Apps[0], hanako)
	otherURL, _ := url.Parse(other.Apps[0].URL)
	foreignValue := foreign.Jar.Cookies(otherURL)[0].Value

	flipped := []byte(cookie.Value)
	flipped[len(flipped)/2] ^= 0x01
	tests := []struct{ name, value string }{
		{name: "one bit flipped", value: string(flipped)},
		{name: "truncated", value: cookie.Value[:len(cookie.Value)/2]},
		{name: "sealed with another app's keys", value: foreignValue},
		{name: "garbage", value: "%%%not-base64%%%"},
		{name: "empty", value: ""},
		{name: "huge", value: strings.Repeat("A", 4000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/", "/home", "/oauth"} {
				req, _ := http.NewRequest(http.MethodGet, app.URL+path, nil)
				req.AddCookie(&http.Cookie{Name: cookie.Name, Value: tt.value})
				resp := apptest.NewBrowser(t).Do(t, req)
				switch path {
				case "/":
					wantStatus(t, resp, http.StatusOK)
				case "/home":
					wantRedirect(t, resp, http.StatusSeeOther, "/")
				case "/oauth":
					wantStatus(t, resp, http.StatusFound)
				}
			}
		})
	}
}

func TestSessionCookieIsEncrypted(t *testing.T) {
	keys := newKeys(t)
	_, app := start(t, apptest.Options{SessionKeys: keys})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	// Three sign-ins pending beside the token, as many as a session keeps:
	// the callback of a sign-in drops its own attempt, so pending ones
	// started before it would leave one fewer.
	for range 3 {
		b.StartSignIn(t, app)
	}
	appURL, _ := url.Parse(app.URL)
	raw := b.Jar.Cookies(appURL)[0].Value
	if len(raw) >= 4096 {
		t.Errorf("cookie is %d bytes; want < 4096", len(raw))
	}

	// With both keys the test can open it, as the app does...
	if _, err := web.SessionSecrets("gmail_session", raw, keys); err != nil {
		t.Fatalf("decode with the app's keys: %v", err)
	}
	// ...with the hash key alone it stays sealed.
	var values map[any]any
	if err := securecookie.New(keys[0], nil).SetSerializer(securecookie.JSONEncoder{}).Decode("gmail_session", raw, &values); err == nil {
		t.Errorf("cookie decodes without the encryption key: tokens would be readable")
	}
	// Unwrapped as far as anyone without the keys can: the cookie is
	// base64 of "date|value|mac", and value is base64 of the payload. Sealed,
	// the payload is ciphertext; signed only, it would be JSON naming the
	// fields and holding the tokens and the address.
	payload := cookiePayload(t, raw)
	for _, readable := range []string{"ya29", "1//", "Access", "Refresh", hanako} {
		if bytes.Contains(payload, []byte(readable)) {
			t.Errorf("cookie payload shows %q in the clear", readable)
		}
	}
}

// cookiePayload undoes securecookie's two base64 layers, not its
// encryption.
func cookiePayload(t *testing.T, raw string) []byte {
	t.Helper()
	outer, err := base64.URLEncoding.DecodeString(raw)
	if err != nil {
		t.Fatalf("cookie is not base64: %v", err)
	}
	fields := bytes.SplitN(outer, []byte("|"), 3)
	if len(fields) != 3 {
		t.Fatalf("cookie has %d |-separated fields; want date|value|mac", len(fields))
	}
	payload, err := base64.URLEncoding.DecodeString(string(fields[1]))
	if err != nil {
		t.Fatalf("cookie value is not base64: %v", err)
	}
	return payload
}

func TestKeyRotation(t *testing.T) {
	oldKeys, rotated := newKeys(t), newKeys(t)
	env, app := start(t, apptest.Options{SessionKeys: oldKeys})
	visitor, absent := apptest.NewBrowser(t), apptest.NewBrowser(t)
	visitor.SignIn(t, app, hanako)
	absent.SignIn(t, app, alex)

	// New pair first, old pair kept: both cookies still open, and the
	// visitor's is re-sealed with the new key on the way.
	env.Restart(t, 0, append(slices.Clone(rotated), oldKeys...))
	wantStatus(t, visitor.Get(t, app.URL+"/home"), http.StatusOK)

	// Old pair dropped: the visitor stays signed in; the cookie of the
	// person who did not come by no longer opens, and they simply see the
	// start page, not an error.
	env.Restart(t, 0, rotated)
	wantStatus(t, visitor.Get(t, app.URL+"/home"), http.StatusOK)
	wantRedirect(t, absent.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
	start := absent.Get(t, app.URL+"/")
	wantStatus(t, start, http.StatusOK)
	if got := heading(t, start); got != "OAuth sample" {
		t.Errorf("after dropping the old key: h1 = %q; want the start page", got)
	}
}

// A session ends 30 days after its sign-in however often it is used: the
// refreshes on the way rewrite the cookie but do not extend it.
func TestSessionHasAnAbsoluteLifetime(t *testing.T) {
	// The app and the sandbox share the clock: a day on, the hour-long
	// access token is due, so every view refreshes it and rewrites the
	// cookie.
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	for day := 1; day < 30; day++ {
		clk.Advance(24 * time.Hour)
		wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	}
	if got := env.Sandbox.Stats().RefreshGrants; got < 29 {
		t.Fatalf("refreshes in 29 days of visits = %d; want one a day", got)
	}
	clk.Advance(24*time.Hour + time.Minute)
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
	if !strings.Contains(startNotice(t, b, app), "30 days") {
		t.Errorf("start page after 30 days: no notice that the session ended")
	}
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
}
