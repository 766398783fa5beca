package web_test

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/sandbox"
	"gmailoauth/internal/web"
)

func TestOAuthRedirect(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	// Straight to /oauth, without visiting / first.
	first := b.Get(t, app.URL+"/oauth")
	wantStatus(t, first, http.StatusFound)
	loc := first.Location(t)
	if got, want := loc.Scheme+"://"+loc.Host+loc.Path, env.SandboxURL+sandbox.AuthPath; got != want {
		t.Errorf("redirect to %s; want %s", got, want)
	}
	q := loc.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             sandbox.ClientID,
		"redirect_uri":          app.URL + "/callback",
		"scope":                 web.GmailScope,
		"code_challenge_method": "S256",
		"access_type":           "offline",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
	state, err := base64.RawURLEncoding.DecodeString(q.Get("state"))
	if err != nil || len(state) < 16 {
		t.Errorf("state = %q: %d bytes, %v; want ≥ 128 bits of base64url", q.Get("state"), len(state), err)
	}
	if c := q.Get("code_challenge"); len(c) != 43 {
		t.Errorf("code_challenge = %q; want 43 base64url chars (S256)", c)
	}
	if strings.Contains(loc.RawQuery, "secret") {
		t.Errorf("authorization URL mentions a secret: %s", loc.RawQuery)
	}
	if got := first.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", got)
	}

	second := b.Get(t, app.URL+"/oauth").Location(t).Query()
	if second.Get("state") == q.Get("state") || second.Get("code_challenge") == q.Get("code_challenge") {
		t.Errorf("two attempts share state or challenge; want fresh values each time")
	}
}

func TestCallbackRefusals(t *testing.T) {
	tests := []struct {
		name string
		// callback builds the callback query from a fresh attempt's state
		// and a code that the sandbox really issued for it.
		callback   func(state, code string) string
		wantStatus int
		wantH1     string
	}{
		{name: "missing state", callback: func(_, code string) string { return "code=" + code }, wantStatus: 400, wantH1: "This sign-in link is not valid"},
		{name: "forged state", callback: func(_, code string) string { return "state=forged-" + code[:8] + "&code=" + code }, wantStatus: 400, wantH1: "This sign-in link is not valid"},
		{name: "empty state", callback: func(_, code string) string { return "state=&code=" + code }, wantStatus: 400, wantH1: "This sign-in link is not valid"},
		{name: "missing code", callback: func(state, _ string) string { return "state=" + state }, wantStatus: 400, wantH1: "Bad request"},
		{name: "unparsable query", callback: func(state, code string) string { return "state=" + state + "&code=%zz" }, wantStatus: 400, wantH1: "Bad request"},
		{name: "oversized state", callback: func(_, code string) string { return "state=" + strings.Repeat("a", 5000) + "&code=" + code }, wantStatus: 400, wantH1: "Bad request"},
		{name: "oversized code", callback: func(state, _ string) string { return "state=" + state + "&code=" + strings.Repeat("c", 9000) }, wantStatus: 400, wantH1: "Bad request"},
		{name: "state twice", callback: func(state, code string) string { return "state=" + state + "&state=" + state + "&code=" + code }, wantStatus: 400, wantH1: "Bad request"},
		{name: "code twice", callback: func(state, code string) string { return "state=" + state + "&code=" + code + "&code=other" }, wantStatus: 400, wantH1: "Bad request"},
		{name: "garbage bytes", callback: func(state, code string) string { return "state=%00%ff%fe&code=%c3%28" }, wantStatus: 400, wantH1: "This sign-in link is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, app := start(t, apptest.Options{})
			b := apptest.NewBrowser(t)
			back := b.Decide(t, b.StartSignIn(t, app), "allow").Location(t).Query()
			resp := b.Get(t, app.URL+"/callback?"+tt.callback(back.Get("state"), back.Get("code")))
			wantStatus(t, resp, tt.wantStatus)
			if got := heading(t, resp); got != tt.wantH1 {
				t.Errorf("h1 = %q; want %q", got, tt.wantH1)
			}
			if got := env.Sandbox.Stats().TokenCalls; got != 0 {
				t.Errorf("token endpoint calls = %d; want 0: a refused callback must not exchange the code", got)
			}
			wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
		})
	}
}

// TestCallbackReplayedState checks that a callback URL works once: used
// again, it reaches Google no more. A browser signed in by it goes to its
// inbox; one signed out since gets the invalid-link page.
func TestCallbackReplayedState(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	back := b.Decide(t, b.StartSignIn(t, app), "allow").Location(t).String()
	wantRedirect(t, b.Get(t, back), http.StatusSeeOther, "/home")
	wantRedirect(t, b.Get(t, back), http.StatusSeeOther, "/home")
	b.PostForm(t, app.URL+"/logout", app.URL, nil)
	replay := b.Get(t, back)
	wantStatus(t, replay, http.StatusBadRequest)
	if got := env.Sandbox.Stats().TokenCalls; got != 1 {
		t.Errorf("token endpoint calls = %d; want 1: the replays must not reach Google", got)
	}
}

func TestCallbackStateIsSingleUseEvenWhenTheExchangeFails(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	back := b.Decide(t, b.StartSignIn(t, app), "allow").Location(t).Query()
	resp := b.Get(t, app.URL+"/callback?state="+back.Get("state")+"&code=not-a-real-code")
	wantStatus(t, resp, http.StatusBadRequest)
	again := b.Get(t, app.URL+"/callback?state="+back.Get("state")+"&code="+back.Get("code"))
	wantStatus(t, again, http.StatusBadRequest)
	if got := heading(t, again); got != "This sign-in link is not valid" {
		t.Errorf("second use of a state: h1 = %q; want the invalid-link page", got)
	}
	if got := env.Sandbox.Stats().TokenCalls; got != 1 {
		t.Errorf("token endpoint calls = %d; want 1", got)
	}
}

// An attacker signs in with their own account, stops before the callback
// and plants their code in a victim's browser (login CSRF). Neither with the
// attacker's state nor with the victim's own may the victim end up signed in
// to the attacker's mailbox.
func TestCallbackAttackersCodeInVictimsBrowser(t *testing.T) {
	env, app := start(t, apptest.Options{})
	attacker := apptest.NewBrowser(t)
	consent := attacker.StartSignIn(t, app)
	consent.Form.Set("account", alex)
	planted := attacker.Decide(t, consent, "allow").Location(t).Query()

	victim := apptest.NewBrowser(t)
	withAttackersState := victim.Get(t, app.URL+"/callback?state="+planted.Get("state")+"&code="+planted.Get("code"))
	wantStatus(t, withAttackersState, http.StatusBadRequest)
	if got := env.Sandbox.Stats().TokenCalls; got != 0 {
		t.Errorf("token calls = %d; want 0 for the attacker's state", got)
	}

	victimState := victim.Get(t, app.URL+"/oauth").Location(t).Query().Get("state")
	withVictimsState := victim.Get(t, app.URL+"/callback?state="+victimState+"&code="+planted.Get("code"))
	wantStatus(t, withVictimsState, http.StatusBadRequest)
	if got := heading(t, withVictimsState); got != "Google did not accept the sign-in" {
		t.Errorf("h1 = %q; want the refused-code page (PKCE verifier mismatch)", got)
	}
	wantRedirect(t, victim.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
}

// TestCallbackAccessDenied: a person who says no at Google lands on the
// start page, at its clean address, told that nothing was shared.
func TestCallbackAccessDenied(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	back := b.Decide(t, b.StartSignIn(t, app), "deny")
	if got := back.Location(t).Query().Get("error"); got != "access_denied" {
		t.Fatalf("sandbox redirect error = %q; want access_denied", got)
	}
	wantRedirect(t, b.Get(t, back.Location(t).String()), http.StatusSeeOther, "/")
	if got := startNotice(t, b, app); !strings.Contains(got, "You declined access") {
		t.Errorf("start page after a refusal: notice = %q; want one saying the person declined", got)
	}
	if got := startNotice(t, b, app); got != "" {
		t.Errorf("start page a second time: notice = %q; want none, it is shown once", got)
	}
	if got := env.Sandbox.Stats().TokenCalls; got != 0 {
		t.Errorf("token calls = %d; want 0", got)
	}
}

// Google lets people untick scopes on its consent screen. Here the person
// grants their email address but unticks Gmail.
func TestCallbackGmailScopeUnticked(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	start := b.Get(t, app.URL+"/oauth").Location(t)
	q := start.Query()
	q.Set("scope", "email "+web.GmailScope)
	start.RawQuery = q.Encode()
	consent := b.OpenConsent(t, start.String())
	form := consent.Form
	form["scope"] = slices.DeleteFunc(form["scope"], func(s string) bool { return s == web.GmailScope })
	if len(form["scope"]) == 0 {
		t.Fatalf("consent form has no other ticked scope to keep: %v", form)
	}
	resp := b.Get(t, b.Decide(t, consent, "allow").Location(t).String())
	wantStatus(t, resp, http.StatusForbidden)
	if got := heading(t, resp); got != "Gmail access was not granted" {
		t.Errorf("h1 = %q; want the missing-permission page", got)
	}
	if got := env.Sandbox.Stats().RevokeCalls; got != 1 {
		t.Errorf("revocations = %d; want 1: the useless token is handed back", got)
	}
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
}

func TestTwoTabsSignInAtOnce(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	first := b.StartSignIn(t, app)
	second := b.StartSignIn(t, app)
	backSecond := b.Decide(t, second, "allow").Location(t).String()
	backFirst := b.Decide(t, first, "allow").Location(t).String()
	wantRedirect(t, b.Get(t, backFirst), http.StatusSeeOther, "/home")
	wantRedirect(t, b.Get(t, backSecond), http.StatusSeeOther, "/home")
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
}

// TestTwoTabsStartSignInAtTheSameMoment: both tabs send /oauth with the
// same cookie, so the cookie that stays holds one attempt only. The tab
// whose attempt was lost lands in the inbox once the other has signed the
// browser in, and its code is never used.
func TestTwoTabsStartSignInAtTheSameMoment(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	appURL, _ := url.Parse(app.URL)
	before := b.Jar.Cookies(appURL)
	lost := b.StartSignIn(t, app)
	b.Jar.SetCookies(appURL, expire(b.Jar.Cookies(appURL))) // as if its Set-Cookie came first and was overwritten
	b.Jar.SetCookies(appURL, before)
	kept := b.StartSignIn(t, app)
	backLost := b.Decide(t, lost, "allow").Location(t).String()
	backKept := b.Decide(t, kept, "allow").Location(t).String()
	wantRedirect(t, b.Get(t, backKept), http.StatusSeeOther, "/home")
	wantRedirect(t, b.Get(t, backLost), http.StatusSeeOther, "/home")
	if got := env.Sandbox.Stats().TokenCalls; got != 1 {
		t.Errorf("token endpoint calls = %d; want 1: the lost attempt's code, whose state cannot be checked, is not used", got)
	}
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
}

// expire returns cookies that delete these.
func expire(cookies []*http.Cookie) []*http.Cookie {
	var gone []*http.Cookie
	for _, c := range cookies {
		gone = append(gone, &http.Cookie{Name: c.Name, Path: "/", MaxAge: -1})
	}
	return gone
}

// TestTwoTabsRenewAtOnce: two tabs find the token due and each starts a
// silent re-authorization; each comes back to its own page.
func TestTwoTabsRenewAtOnce(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now})
	b := signInElsewhere(t, app, hanako)
	older := olderLink(t, b.Get(t, app.URL+"/home"))
	clk.Advance(2 * time.Hour)
	first := b.Get(t, app.URL+"/home")
	second := b.Get(t, app.URL+older)
	wantRedirect(t, followRenewal(t, b, env, first), http.StatusSeeOther, "/home")
	wantRedirect(t, followRenewal(t, b, env, second), http.StatusSeeOther, older)
	wantStatus(t, b.Get(t, app.URL+older), http.StatusOK)
}

// TestLogout: sign-out revokes the grant at Google, forgets the session and
// lands on the start page, which says so once, in the person's language,
// the way it says that a sign-in was declined.
func TestLogout(t *testing.T) {
	for _, tt := range []struct{ lang, want string }{
		{lang: "en", want: "You are signed out."},
		{lang: "ja", want: "ログアウトしました。"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			keys := newKeys(t)
			env, app := start(t, apptest.Options{SessionKeys: keys})
			b := apptest.NewBrowser(t)
			b.Language = tt.lang
			b.SignIn(t, app, hanako)

			wantStatus(t, b.Do(t, crossSitePost(t, app.URL+"/logout", nil)), http.StatusForbidden)
			wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
			if got := env.Sandbox.Stats().RevokeCalls; got != 0 {
				t.Fatalf("revocations after a cross-site POST = %d; want 0", got)
			}

			resp := b.PostForm(t, app.URL+"/logout", app.URL, nil)
			wantRedirect(t, resp, http.StatusSeeOther, "/")
			if got := env.Sandbox.Stats().RevokeCalls; got != 1 {
				t.Errorf("revocations = %d; want 1", got)
			}
			// The cookie it leaves holds the notice and nothing else.
			if cookies := resp.Cookies(); len(cookies) != 1 || cookies[0].MaxAge < 0 {
				t.Errorf("logout cookies = %v; want a session with the notice", cookies)
			} else if secrets, err := web.SessionSecrets(cookies[0].Name, cookies[0].Value, keys); err != nil || len(secrets) != 0 {
				t.Errorf("session after logout holds %d secrets, %v; want none", len(secrets), err)
			}
			wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
			if got := startNotice(t, b, app); got != tt.want {
				t.Errorf("start page after sign-out: notice = %q; want %q", got, tt.want)
			}
			if got := startNotice(t, b, app); got != "" {
				t.Errorf("start page a second time: notice = %q; want none, it is shown once", got)
			}
		})
	}
}

// Sign-out always signs out here; when Google could not be told, the page
// says so and links to where the person can end the access themselves. A
// grant already gone at Google is no failure.
func TestLogoutTellsWhenRevocationFails(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"backend_error"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(refusing.Close)
	tests := []struct {
		name        string
		revokeURL   string // "" keeps the sandbox's
		revokeFirst bool   // the grant is revoked at Google before sign-out
		wantFailure bool
	}{
		{name: "revoked", wantFailure: false},
		{name: "already revoked at Google", revokeFirst: true, wantFailure: false},
		{name: "revocation endpoint unreachable", revokeURL: "http://127.0.0.1:1/revoke", wantFailure: true},
		{name: "revocation endpoint answers 503", revokeURL: refusing.URL + "/revoke", wantFailure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, app := start(t, apptest.Options{Config: func(c *config.Config) { c.RevokeURL = cmp.Or(tt.revokeURL, c.RevokeURL) }})
			b := apptest.NewBrowser(t)
			b.SignIn(t, app, hanako)
			if tt.revokeFirst {
				env.Sandbox.RevokeAccount(hanako)
			}
			resp := b.PostForm(t, app.URL+"/logout", app.URL, nil)
			wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
			if !tt.wantFailure {
				wantRedirect(t, resp, http.StatusSeeOther, "/")
				if got := startNotice(t, b, app); got != "You are signed out." {
					t.Errorf("start page after sign-out: notice = %q; want You are signed out.", got)
				}
				return
			}
			// The page says what happened; the start page says nothing more.
			if cleared := resp.Cookies(); len(cleared) != 1 || cleared[0].MaxAge >= 0 {
				t.Errorf("POST /logout cookies = %v; want the session cookie deleted", cleared)
			}
			if got := startNotice(t, b, app); got != "" {
				t.Errorf("start page after a failed revocation: notice = %q; want none", got)
			}
			wantStatus(t, resp, http.StatusBadGateway)
			doc := apptest.Parse(t, resp.Body)
			if got := heading(t, resp); got != "Signed out here, but Google may still allow access" {
				t.Errorf("POST /logout h1 = %q; want the revocation failure", got)
			}
			var link bool
			for _, a := range apptest.FindAll(doc, "a") {
				link = link || apptest.Attr(a, "href") == "https://myaccount.google.com/connections"
			}
			if !link {
				t.Errorf("POST /logout page has no link to https://myaccount.google.com/connections")
			}
			if strings.Contains(apptest.Text(doc), hanako) {
				t.Errorf("POST /logout page still shows %s as signed in", hanako)
			}
		})
	}
}

// Behind a reverse proxy the Host header can differ from the public name; a
// same-site sign-out from the public origin (the redirect URL's) must still
// work, and one from elsewhere must not.
func TestLogoutBehindProxy(t *testing.T) {
	_, app := start(t, apptest.Options{})
	for _, tt := range []struct {
		origin string
		want   int
	}{
		{origin: app.URL, want: http.StatusSeeOther},
		{origin: "https://evil.example", want: http.StatusForbidden},
	} {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/logout", nil)
		req.Host = "backend.internal:5000"
		req.Header.Set("Origin", tt.origin)
		resp := apptest.NewBrowser(t).Do(t, req)
		if resp.StatusCode != tt.want {
			t.Errorf("POST /logout from %s via Host %s = %d; want %d", tt.origin, req.Host, resp.StatusCode, tt.want)
		}
	}
}

// TestSecondSignInStaysSignedIn is the bug issue 8 found: Google gives a
// second sign-in of an account no refresh token, and golang.org/x/oauth2
// stops using an access token 10 s before it expires. Whatever the clock
// says, the first browser refreshes and the second renews silently; neither
// sees an outage page.
func TestSecondSignInStaysSignedIn(t *testing.T) {
	tests := []struct {
		name string
		// advance moves the clock from the sign-in; tokens live 3599 s.
		advance     time.Duration
		wantRenewal bool
	}{
		{name: "just before the early-expiry window", advance: 3599*time.Second - 11*time.Second, wantRenewal: false},
		{name: "inside the early-expiry window", advance: 3599*time.Second - 5*time.Second, wantRenewal: true},
		{name: "past expiry", advance: 2 * time.Hour, wantRenewal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := apptest.NewClock()
			env, app := start(t, apptest.Options{Now: clk.Now})
			first := apptest.NewBrowser(t)
			first.SignIn(t, app, hanako)
			wantStatus(t, first.Get(t, app.URL+"/home"), http.StatusOK)
			second := apptest.NewBrowser(t)
			second.SignIn(t, app, hanako)
			wantStatus(t, second.Get(t, app.URL+"/home"), http.StatusOK)
			clk.Advance(tt.advance)
			grants := env.Sandbox.Stats().RefreshGrants

			wantStatus(t, first.Get(t, app.URL+"/home"), http.StatusOK)
			wantRefreshes := int64(0)
			if tt.wantRenewal {
				wantRefreshes = 1
			}
			if got := env.Sandbox.Stats().RefreshGrants - grants; got != wantRefreshes {
				t.Errorf("first browser: refresh grants = %d; want %d", got, wantRefreshes)
			}

			resp := second.Get(t, app.URL+"/home")
			if !tt.wantRenewal {
				wantStatus(t, resp, http.StatusOK)
				return
			}
			if q := resp.Location(t).Query(); q.Get("login_hint") != hanako {
				t.Errorf("silent re-authorization login_hint = %q; want %q", q.Get("login_hint"), hanako)
			}
			back := followRenewal(t, second, env, resp)
			wantRedirect(t, back, http.StatusSeeOther, "/home")
			inbox := second.Get(t, app.URL+"/home")
			wantStatus(t, inbox, http.StatusOK)
			if n := messageCount(t, inbox); n == 0 {
				t.Errorf("inbox after the renewal shows no messages")
			}
			wantStatus(t, second.Get(t, app.URL+"/home"), http.StatusOK)
		})
	}
}

// TestRenewalReturnsToThePageAskedFor checks that the silent
// re-authorization brings the person back to an older inbox page, with its
// way back, and to nowhere else.
func TestRenewalReturnsToThePageAskedFor(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now})
	b := signInElsewhere(t, app, hanako)
	var olderHref string
	for _, a := range apptest.FindAll(apptest.Parse(t, b.Get(t, app.URL+"/home").Body), "a") {
		if apptest.Attr(a, "rel") == "next" {
			olderHref = apptest.Attr(a, "href")
		}
	}
	if !strings.HasPrefix(olderHref, "/home?page=") {
		t.Fatalf("first inbox page has no Older link (href %q)", olderHref)
	}
	clk.Advance(2 * time.Hour)
	back := followRenewal(t, b, env, b.Get(t, app.URL+olderHref))
	wantRedirect(t, back, http.StatusSeeOther, olderHref)
	wantStatus(t, b.Get(t, app.URL+olderHref), http.StatusOK)
}

// TestRenewalNeverLoops covers every way a silent re-authorization can end
// without a usable token: the person lands on the start page with a note,
// and the next view does not start another attempt.
func TestRenewalNeverLoops(t *testing.T) {
	tests := []struct {
		name string
		// prepare runs after both sign-ins and before the clock moves.
		prepare func(t *testing.T, env *apptest.Env, b *apptest.Browser)
		// wantBack is where the callback sends the person.
		wantBack string
		// wantThen is where the inbox sends them after that.
		wantThen string
	}{
		{
			name:     "access revoked (consent_required)",
			prepare:  func(t *testing.T, env *apptest.Env, b *apptest.Browser) { env.Sandbox.RevokeAccount(hanako) },
			wantBack: "/",
			wantThen: "/",
		},
		{
			name: "signed out of Google (login_required)",
			prepare: func(t *testing.T, env *apptest.Env, b *apptest.Browser) {
				// Cookies ignore ports, so the app's and the sandbox's share
				// the jar's 127.0.0.1; drop all but the app's own.
				sandboxURL, _ := url.Parse(env.SandboxURL)
				for _, c := range b.Jar.Cookies(sandboxURL) {
					if c.Name != "gmail_session" && c.Name != "gmail_site" {
						b.Jar.SetCookies(sandboxURL, []*http.Cookie{{Name: c.Name, Path: "/", MaxAge: -1}})
					}
				}
			},
			wantBack: "/",
			wantThen: "/",
		},
		{
			name: "renewed token already due",
			prepare: func(t *testing.T, env *apptest.Env, b *apptest.Browser) {
				env.Sandbox.SetAccessTokenTTL(5 * time.Second)
			},
			wantBack: "/home",
			wantThen: "/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := apptest.NewClock()
			var logs apptest.LogBuffer
			env, app := start(t, apptest.Options{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			b := signInElsewhere(t, app, hanako)
			tt.prepare(t, env, b)
			clk.Advance(2 * time.Hour)

			back := followRenewal(t, b, env, b.Get(t, app.URL+"/home"))
			wantRedirect(t, back, http.StatusSeeOther, tt.wantBack)
			// Only a renewal that brought a token back is a sign-in.
			renewed := 0
			if tt.wantBack == "/home" {
				renewed = 1
			}
			if got := strings.Count(logs.String(), `msg="signed in" silent=true`); got != renewed {
				t.Errorf("log has %d silent sign-ins; want %d:\n%s", got, renewed, logs.String())
			}
			// Google refusing prompt=none is an expected end, not a warning.
			if renewed == 0 && strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("a refused renewal logged a warning:\n%s", logs.String())
			}
			wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, tt.wantThen)
			wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
			if !strings.Contains(startNotice(t, b, app), "Connect again") {
				t.Errorf("start page does not say why the person was signed out")
			}
		})
	}
}

// TestRenewalRefusesAnotherAccount: login_hint is only a hint, so a silent
// re-authorization may come back with a token of another account signed in
// to Google in the same browser. The app must not keep it under the name
// the page shows, and hands it back to Google; the person starts again.
func TestRenewalRefusesAnotherAccount(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now})
	apptest.NewBrowser(t).SignIn(t, app, hanako) // hanako's first grant
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, alex)   // this browser is signed in to Google as alex too
	b.SignIn(t, app, hanako) // no refresh token: hanako granted before
	clk.Advance(2 * time.Hour)

	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusFound)
	google := resp.Location(t)
	query := google.Query()
	if query.Get("login_hint") != hanako {
		t.Fatalf("silent re-authorization login_hint = %q; want %q", query.Get("login_hint"), hanako)
	}
	// Google picks alex, as it may when the hint does not decide.
	query.Set("login_hint", alex)
	google.RawQuery = query.Encode()
	answer := b.Get(t, google.String())
	if answer.StatusCode != http.StatusFound || answer.Location(t).Query().Get("code") == "" {
		t.Fatalf("GET %s for alex with prompt=none = %d to %q; want 302 with a code", sandbox.AuthPath, answer.StatusCode, answer.Header.Get("Location"))
	}
	revocations := env.Sandbox.Stats().RevokeCalls
	back := b.Get(t, answer.Location(t).String())
	wantRedirect(t, back, http.StatusSeeOther, "/")
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
	if got := env.Sandbox.Stats().RevokeCalls - revocations; got != 1 {
		t.Errorf("revocations after the renewal came back for alex = %d; want 1: a token never asked for is handed back", got)
	}
}

// TestRenewalWhenGmailCannotSayWhose covers the Gmail profile call that
// names a token's account failing, at the sign-in's first view or at the
// renewal: a sign-in that could not learn the account renews under the name
// Gmail then gives; a renewal Gmail cannot check is an outage page, and the next view
// tries again.
func TestRenewalWhenGmailCannotSayWhose(t *testing.T) {
	profileDown := repeat(sandbox.Fault{Call: "profile", Status: http.StatusServiceUnavailable}, 8) // more than the client's retries
	tests := []struct {
		name string
		// atSignIn fails the lookup at the second sign-in, else at the renewal.
		atSignIn bool
		// wantBack is the callback's status at the end of the renewal.
		wantBack int
	}{
		{name: "lookup failed at the sign-in", atSignIn: true, wantBack: http.StatusSeeOther},
		{name: "lookup fails at the renewal", atSignIn: false, wantBack: http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := apptest.NewClock()
			env, app := start(t, apptest.Options{Now: clk.Now})
			apptest.NewBrowser(t).SignIn(t, app, hanako)
			b := apptest.NewBrowser(t)
			if tt.atSignIn {
				env.Sandbox.InjectFaults(profileDown...)
			}
			b.SignIn(t, app, hanako)
			wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK) // where the sign-in lands, and asks whose
			env.Sandbox.ClearFaults()
			clk.Advance(2 * time.Hour)
			if !tt.atSignIn {
				env.Sandbox.InjectFaults(profileDown...)
			}

			back := followRenewal(t, b, env, b.Get(t, app.URL+"/home"))
			if back.StatusCode != tt.wantBack {
				t.Fatalf("GET /callback (renewal) = %d to %q; want %d", back.StatusCode, back.Header.Get("Location"), tt.wantBack)
			}
			env.Sandbox.ClearFaults()
			resp := b.Get(t, app.URL+"/home")
			if resp.StatusCode == http.StatusFound {
				resp = b.Get(t, followRenewal(t, b, env, resp).Location(t).String())
			}
			wantStatus(t, resp, http.StatusOK)
			if got := apptest.Text(apptest.Find(apptest.Parse(t, resp.Body), "header")); !strings.Contains(got, hanako) {
				t.Errorf("inbox header after the renewal = %q; want it to name %s", got, hanako)
			}
		})
	}
}

// TestHeaderOffersSignOutWhenGmailDidNotSayWhose: a sign-in whose Gmail
// profile call failed has no address to show, but the header still says
// the person is signed in, with Sign out, on every page.
func TestHeaderOffersSignOutWhenGmailDidNotSayWhose(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	// Each view of the inbox asks again, and fails again: more faults
	// than the client's retries of two views.
	env.Sandbox.InjectFaults(repeat(sandbox.Fault{Call: "profile", Status: http.StatusServiceUnavailable}, 16)...)
	b.SignIn(t, app, hanako)
	for _, path := range []string{"/", "/home", "/no-such-page", "/home"} {
		header := apptest.Find(apptest.Parse(t, b.Get(t, app.URL+path).Body), "header")
		nav := apptest.Find(header, "nav.account")
		if nav == nil {
			t.Errorf("GET %s: header has no account navigation; want Sign out", path)
			continue
		}
		form := apptest.Find(nav, "form")
		if form == nil || apptest.Attr(form, "action") != "/logout" || apptest.Text(form) != "Sign out" {
			t.Errorf("GET %s: header's account navigation = %q; want a Sign out form", path, apptest.Text(nav))
		}
		if who := apptest.Find(nav, "span.who"); who != nil {
			t.Errorf("GET %s: header names %q; want no address, Gmail gave none", path, apptest.Text(who))
		}
	}
}

// TestRefreshRefusals maps each way Google can refuse a refresh to what
// the person sees: never "Gmail isn't answering", and the start page only
// when the grant is gone.
func TestRefreshRefusals(t *testing.T) {
	tests := []struct {
		name string
		// refusal, when set, stands between the app and the token endpoint.
		refusal      func(base http.RoundTripper) http.RoundTripper
		revoke       bool
		wantStatus   int
		wantLocation string
		wantHeading  string
	}{
		{name: "revoked (invalid_grant)", revoke: true, wantStatus: http.StatusSeeOther, wantLocation: "/"},
		{name: "client refused (invalid_client)", refusal: wrongSecretOnRefresh, wantStatus: http.StatusBadGateway, wantHeading: "Google refused to renew your sign-in"},
		{name: "Google down (503)", refusal: unavailableOnRefresh, wantStatus: http.StatusBadGateway, wantHeading: "Google isn't answering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := apptest.NewClock()
			var refusing atomic.Bool
			env, app := start(t, apptest.Options{Now: clk.Now, Deps: func(d *web.Deps) {
				if tt.refusal != nil {
					refused := tt.refusal(http.DefaultTransport)
					d.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
						if refusing.Load() {
							return refused.RoundTrip(r)
						}
						return http.DefaultTransport.RoundTrip(r)
					})}
				}
			}})
			b := apptest.NewBrowser(t)
			b.SignIn(t, app, hanako)
			if tt.revoke {
				env.Sandbox.RevokeAccount(hanako)
			}
			refusing.Store(true)
			clk.Advance(2 * time.Hour)

			resp := b.Get(t, app.URL+"/home")
			wantStatus(t, resp, tt.wantStatus)
			if tt.wantLocation != "" {
				wantRedirect(t, resp, tt.wantStatus, tt.wantLocation)
				return
			}
			if got := heading(t, resp); got != tt.wantHeading {
				t.Errorf("GET /home heading = %q; want %q", got, tt.wantHeading)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// wrongSecretOnRefresh sends refresh requests with a wrong client secret,
// so the real sandbox refuses them with 401 invalid_client, as Google does
// after the app's secret was rotated.
func wrongSecretOnRefresh(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body == nil {
			return base.RoundTrip(r)
		}
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(body))
		if err == nil && form.Get("grant_type") == "refresh_token" {
			form.Set("client_secret", "rotated-away")
			body = []byte(form.Encode())
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		return base.RoundTrip(r)
	})
}

// unavailableOnRefresh answers token requests as Google's front end does
// when the service is down: 503 and an HTML page.
func unavailableOnRefresh(http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusServiceUnavailable,
			Status:     "503 Service Unavailable",
			Header:     http.Header{"Content-Type": {"text/html; charset=UTF-8"}},
			Body:       io.NopCloser(strings.NewReader("<html><title>Error 503 (Service Unavailable)!!1</title></html>")),
			Request:    r,
		}, nil
	})
}

// TestRenewalKeepsTheSessionLifetime checks that silent re-authorizations,
// like refreshes, do not extend a session past its absolute lifetime from
// the sign-in the person made.
func TestRenewalKeepsTheSessionLifetime(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now})
	b := signInElsewhere(t, app, hanako)
	clk.Advance(web.SessionLifetime - 24*time.Hour)
	wantRedirect(t, followRenewal(t, b, env, b.Get(t, app.URL+"/home")), http.StatusSeeOther, "/home")
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)

	clk.Advance(2 * 24 * time.Hour)
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
}
