package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
)

// The tests in this file are one browser with several tabs: they share the
// cookie jar, and each tab's requests may interleave with the others'.

// signedInAs is the address the page's header names, or "".
func signedInAs(t *testing.T, page *apptest.Response) string {
	t.Helper()
	who := apptest.Find(apptest.Find(apptest.Parse(t, page.Body), "header"), "span.who")
	if who == nil {
		return ""
	}
	return strings.TrimSpace(apptest.Text(who))
}

// browse follows redirects from resp, through the app and the sandbox's
// silent re-authorizations, as a tab does, and returns the page it ends on.
func browse(t *testing.T, b *apptest.Browser, resp *apptest.Response) *apptest.Response {
	t.Helper()
	for hops := 0; resp.StatusCode/100 == 3; hops++ {
		if hops == 10 {
			t.Fatalf("%s %s: still redirecting after %d hops", resp.Request.Method, resp.Request.URL, hops)
		}
		resp = b.Get(t, resp.Request.URL.ResolveReference(resp.Location(t)).String())
	}
	return resp
}

// TestLateRenewalKeepsTheOtherTabsAccount: tab 1, signed in as hanako with
// a token that is due, starts a silent re-authorization; before Google's
// answer comes back, tab 2 signs in as alex. Google then answers, rightly,
// for hanako. The browser is alex's now: the late answer must not sign
// alex out, and must not revoke hanako's grant, which her other browsers
// use; tab 1 lands on the inbox the browser now shows.
func TestLateRenewalKeepsTheOtherTabsAccount(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now})
	// alex has granted before, so tab 2's account chooser needs no consent.
	apptest.NewBrowser(t).SignIn(t, app, alex)
	b := signInElsewhere(t, app, hanako)
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	clk.Advance(2 * time.Hour)

	tab1 := b.Get(t, app.URL+"/home")
	wantStatus(t, tab1, http.StatusFound)
	google := tab1.Location(t)
	if google.Query().Get("prompt") != "none" || google.Query().Get("login_hint") != hanako {
		t.Fatalf("GET /home with a due token = 302 to %s; want a silent re-authorization for %s", google, hanako)
	}

	b.SignIn(t, app, alex) // tab 2
	if got := signedInAs(t, browse(t, b, b.Get(t, app.URL+"/home"))); got != alex {
		t.Fatalf("tab 2's inbox names %q; want %s", got, alex)
	}

	revocations := env.Sandbox.Stats().RevokeCalls
	answer := b.Get(t, google.String())
	if answer.StatusCode != http.StatusFound || answer.Location(t).Query().Get("code") == "" {
		t.Fatalf("GET %s = %d; want 302 with a code for %s", google.Path, answer.StatusCode, hanako)
	}
	landed := browse(t, b, b.Get(t, answer.Location(t).String()))
	wantStatus(t, landed, http.StatusOK)
	if got := signedInAs(t, landed); got != alex {
		t.Errorf("tab 1 lands on an inbox naming %q; want %s, whose sign-in came later", got, alex)
	}
	if got := env.Sandbox.Stats().RevokeCalls - revocations; got != 0 {
		t.Errorf("revocations after the late renewal = %d; want 0: hanako's grant is good", got)
	}
	if got := signedInAs(t, browse(t, b, b.Get(t, app.URL+"/home"))); got != alex {
		t.Errorf("tab 2's inbox after the late renewal names %q; want %s", got, alex)
	}
	// hanako's other browser still reads her mail.
	other := apptest.NewBrowser(t)
	other.SignIn(t, app, hanako)
	if got := signedInAs(t, browse(t, other, other.Get(t, app.URL+"/home"))); got != hanako {
		t.Errorf("hanako's other browser names %q; want %s", got, hanako)
	}
}

// TestTwoTabsRenewAtTheSameMoment: with the token due and no refresh
// token, two tabs load the inbox at once; each starts a silent
// re-authorization, and the browser keeps the cookie of the second. The
// first tab's answer comes back with a state the cookie no longer holds:
// it must still end on the inbox, never on an error page, and so must the
// second.
func TestTwoTabsRenewAtTheSameMoment(t *testing.T) {
	clk := apptest.NewClock()
	_, app := start(t, apptest.Options{Now: clk.Now})
	b := signInElsewhere(t, app, hanako)
	older := olderLink(t, b.Get(t, app.URL+"/home"))
	clk.Advance(2 * time.Hour)

	appURL, _ := url.Parse(app.URL)
	before := b.Jar.Cookies(appURL)
	first := b.Get(t, app.URL+"/home")
	b.Jar.SetCookies(appURL, before) // the second request left with the same cookie
	second := b.Get(t, app.URL+older)
	for _, resp := range []*apptest.Response{first, second} {
		wantStatus(t, resp, http.StatusFound)
	}

	firstPage := browse(t, b, first)
	if firstPage.StatusCode != http.StatusOK || firstPage.Request.URL.Path != "/home" {
		t.Errorf("tab 1 ends on %s = %d; want the inbox, 200\n%s", firstPage.Request.URL, firstPage.StatusCode, clipBody(firstPage.Body))
	}
	secondPage := browse(t, b, second)
	if secondPage.StatusCode != http.StatusOK || secondPage.Request.URL.RequestURI() != older {
		t.Errorf("tab 2 ends on %s = %d; want %s, 200\n%s", secondPage.Request.URL, secondPage.StatusCode, older, clipBody(secondPage.Body))
	}
}

// TestSwitchingAccountRevokesTheReplacedGrant: signed in as hanako, the
// person signs in as alex in the same browser without signing out, then
// signs out. A copy of the cookie from hanako's time must not show her
// mail any more: the app held her grant, and hands it back when another
// account takes the session.
func TestSwitchingAccountRevokesTheReplacedGrant(t *testing.T) {
	_, app := start(t, apptest.Options{})
	// alex has granted before, so the account chooser needs no consent.
	apptest.NewBrowser(t).SignIn(t, app, alex)
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	appURL, _ := url.Parse(app.URL)
	hanakosCookie := b.Jar.Cookies(appURL)

	b.SignIn(t, app, alex)
	if got := signedInAs(t, browse(t, b, b.Get(t, app.URL+"/home"))); got != alex {
		t.Fatalf("inbox after the second sign-in names %q; want %s", got, alex)
	}
	wantRedirect(t, b.PostForm(t, app.URL+"/logout", app.URL, nil), http.StatusSeeOther, "/")

	copied := apptest.NewBrowser(t)
	copied.Jar.SetCookies(appURL, hanakosCookie)
	if resp := copied.Get(t, app.URL+"/home"); resp.StatusCode == http.StatusOK {
		t.Errorf("GET /home with a copy of hanako's cookie = 200 (%q's inbox); want her grant revoked", signedInAs(t, resp))
	}
}

// TestSigningInAgainKeepsTheGrant: a second sign-in of the same account in
// one browser replaces the token but not the grant; revoking the old token
// would end the new one too.
func TestSigningInAgainKeepsTheGrant(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	b.SignIn(t, app, hanako)
	if got := env.Sandbox.Stats().RevokeCalls; got != 0 {
		t.Errorf("revocations after signing in again as the same account = %d; want 0", got)
	}
	if got := signedInAs(t, browse(t, b, b.Get(t, app.URL+"/home"))); got != hanako {
		t.Errorf("inbox after signing in again names %q; want %s", got, hanako)
	}
}
