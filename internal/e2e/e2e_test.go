package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/sandbox"
)

// pageSize is how many unread messages the inbox shows a page.
const pageSize = 50

// sessionCookie is the app's cookie over http, where the __Host- prefix is
// not allowed.
const sessionCookie = "gmail_session"

// wantPage fails the test unless resp, the document a step led to, is url
// with status.
func wantPage(t *testing.T, step string, resp *network.Response, url string, status int64) {
	t.Helper()
	if resp.URL != url || resp.Status != status {
		t.Fatalf("%s: got %s (%d); want %s (%d)", step, resp.URL, resp.Status, url, status)
	}
}

// toConsent goes from the app's start page to the sandbox consent page, the
// way a person does: by clicking "Connect to Gmail".
func toConsent(t *testing.T, tb *tab, env *apptest.Env) {
	t.Helper()
	app := env.Apps[0]
	if status := tb.open(app.URL + "/"); status != http.StatusOK {
		t.Fatalf("GET / = %d; want 200", status)
	}
	if got := tb.text("title"); got != "OAuth sample" {
		t.Errorf("GET /: title %q; want OAuth sample", got)
	}
	if got := tb.text(`a[href="/oauth"]`); got != "Connect to Gmail" {
		t.Fatalf("GET /: link to /oauth says %q; want Connect to Gmail", got)
	}
	consent := tb.click(`a[href="/oauth"]`)
	if !strings.HasPrefix(consent.URL, env.SandboxURL+sandbox.AuthPath+"?") || consent.Status != http.StatusOK {
		t.Fatalf("click Connect to Gmail: got %s (%d); want the sandbox consent page %s (200)",
			consent.URL, consent.Status, env.SandboxURL+sandbox.AuthPath)
	}
}

// signIn clicks through the whole sign-in as the account the consent page
// offers first, and checks it lands on the inbox.
func signIn(t *testing.T, tb *tab, env *apptest.Env) {
	t.Helper()
	toConsent(t, tb, env)
	wantPage(t, "click Allow", tb.click(`button[name="decision"][value="allow"]`), env.Apps[0].URL+"/home", http.StatusOK)
}

// wantInbox checks that the tab shows account's inbox with n messages.
func wantInbox(t *testing.T, tb *tab, account string, n int) {
	t.Helper()
	if got := tb.count("ol.messages > li.message"); got != n {
		t.Errorf("GET %s: %d messages; want %d", tb.path(), got, n)
	}
	if got := tb.count("li.message.failed"); got != 0 {
		t.Errorf("GET %s: %d messages without details; want 0", tb.path(), got)
	}
	if got := tb.text("span.who"); got != account {
		t.Errorf("GET %s: signed in as %q; want %q", tb.path(), got, account)
	}
}

// breakGmail makes the sandbox's Gmail answer 503 to the next listings,
// more of them than the app's Gmail client retries, until ClearFaults.
func breakGmail(env *apptest.Env) {
	failures := make([]sandbox.Fault, 8)
	for i := range failures {
		failures[i] = sandbox.Fault{Call: "list", Status: http.StatusServiceUnavailable}
	}
	env.Sandbox.InjectFaults(failures...)
}

func TestSignInShowsUnreadMail(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	app := env.Apps[0]
	account := env.Sandbox.Accounts()[0]
	unread := env.Sandbox.UnreadCount(account)
	if unread <= pageSize || unread > 2*pageSize {
		t.Fatalf("the sandbox seeds %d unread for %s; this test needs two pages' worth", unread, account)
	}
	tb := openBrowser(t)

	signIn(t, tb, env)
	wantInbox(t, tb, account, pageSize)
	if got, want := tb.text("p.count"), fmt.Sprintf("About %d unread", unread); got != want {
		t.Errorf("GET /home: count says %q; want %q", got, want)
	}
	if got := tb.count(`nav.pager a[rel="prev"]`); got != 0 {
		t.Errorf("GET /home: first page has %d links to newer mail; want 0", got)
	}

	// The cookie as the browser keeps it, not as the server meant it.
	cookie := tb.cookie(app.URL, sessionCookie)
	switch {
	case cookie == nil:
		t.Errorf("after sign-in the browser holds no %s cookie for %s", sessionCookie, app.URL)
	case !cookie.HTTPOnly || cookie.SameSite != network.CookieSameSiteLax || cookie.Secure || cookie.Path != "/":
		t.Errorf("cookie %s: HttpOnly=%t SameSite=%q Secure=%t Path=%q; want HttpOnly, SameSite=Lax, not Secure over http, Path=/",
			cookie.Name, cookie.HTTPOnly, cookie.SameSite, cookie.Secure, cookie.Path)
	}

	wantArrowSpaced(t, tb, `nav.pager a[rel="next"]`)
	older := tb.click(`nav.pager a[rel="next"]`)
	if older.Status != http.StatusOK || !strings.HasPrefix(older.URL, app.URL+"/home?page=") {
		t.Fatalf("click Older →: got %s (%d); want the second page of /home", older.URL, older.Status)
	}
	wantInbox(t, tb, account, unread-pageSize)
	if got, want := tb.text("p.count"), fmt.Sprintf("About %d unread · page 2", unread); got != want {
		t.Errorf("GET %s: count says %q; want %q", tb.path(), got, want)
	}
	if got := tb.text(`nav.pager a[rel="next"]`); got != "" {
		t.Errorf("GET %s: last page links to older mail (%q)", tb.path(), got)
	}

	wantArrowSpaced(t, tb, `nav.pager a[rel="prev"]`)
	wantPage(t, "click ← Newer", tb.click(`nav.pager a[rel="prev"]`), app.URL+"/home", http.StatusOK)
	wantInbox(t, tb, account, pageSize)
}

// wantArrowSpaced checks that the pager link selector shows its arrow at
// least a space's width from its label, as "Older →", not "Older→": a flex
// container drops the white space at its items' edges, so the space in the
// template is lost unless the style puts one back.
func wantArrowSpaced(t *testing.T, tb *tab, selector string) {
	t.Helper()
	// The label is the link's text node, the arrow its aria-hidden span;
	// the space is measured in the link's own font.
	measured, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]float64](`(() => {
		const link = document.querySelector(`+strconv.Quote(selector)+`);
		const arrow = link.querySelector('span[aria-hidden="true"]');
		const label = [...link.childNodes].find(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
		const box = node => { const r = document.createRange(); r.selectNodeContents(node); return r.getBoundingClientRect(); };
		const a = box(arrow), l = box(label);
		const canvas = document.createElement('canvas').getContext('2d');
		canvas.font = getComputedStyle(link).font;
		return [Math.max(a.left - l.right, l.left - a.right), canvas.measureText(' ').width];
	})()`))
	if err != nil {
		t.Fatalf("%s: measure %s: %v", tb.name, selector, err)
	}
	if gap, space := measured[0], measured[1]; gap < space {
		t.Errorf("GET %s: %s shows its arrow %.1f px from its label; want at least a space, %.1f px", tb.path(), selector, gap, space)
	}
}

func TestDenyShowsDeclinedPage(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	tb := openBrowser(t)

	toConsent(t, tb, env)
	declined := tb.click(`button[name="decision"][value="deny"]`)
	// The start page, at its own address: no error or state from Google
	// stays in the address bar.
	if declined.Status != http.StatusOK || declined.URL != env.Apps[0].URL+"/" {
		t.Fatalf("click Deny: got %s (%d); want the app's start page, %s/ (200)", declined.URL, declined.Status, env.Apps[0].URL)
	}
	if got := tb.text("p.notice"); !strings.HasPrefix(got, "You declined access") {
		t.Errorf("after Deny: notice = %q; want You declined access…", got)
	}
	if got := tb.text("div.sandbox strong"); got != "Sandbox mode" {
		t.Errorf("after Deny: sandbox banner says %q; want the shared layout with Sandbox mode", got)
	}

	// The page's way forward is to try again, which goes back to Google.
	if got := tb.text(`main a[href="/oauth"]`); got != "Connect to Gmail" {
		t.Fatalf("after Deny: link to /oauth says %q; want Connect to Gmail", got)
	}
	again := tb.click(`main a[href="/oauth"]`)
	if !strings.HasPrefix(again.URL, env.SandboxURL+sandbox.AuthPath+"?") || again.Status != http.StatusOK {
		t.Errorf("click Connect to Gmail after Deny: got %s (%d); want the sandbox consent page", again.URL, again.Status)
	}
}

func TestSignOut(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	app := env.Apps[0]
	tb := openBrowser(t)

	signIn(t, tb, env)
	wantPage(t, "click Sign out", tb.click(`header form[action="/logout"] button`), app.URL+"/", http.StatusOK)
	if got := tb.text("p.notice"); got != "You are signed out." {
		t.Errorf("after Sign out: notice = %q; want You are signed out.", got)
	}
	if got := tb.text(`a[href="/oauth"]`); got != "Connect to Gmail" {
		t.Errorf("after Sign out: GET / offers %q; want Connect to Gmail", got)
	}
	if got := tb.count("span.who"); got != 0 {
		t.Errorf("after Sign out: GET / still shows an account")
	}
	if got := env.Sandbox.Stats().RevokeCalls; got != 1 {
		t.Errorf("Sign out revoked %d times at Google; want 1", got)
	}

	// The inbox is gone with the session, not merely hidden.
	tb.open(app.URL + "/home")
	if got := tb.location(); got != app.URL+"/" {
		t.Errorf("GET /home after Sign out ended at %s; want %s/", got, app.URL)
	}
}

func TestInboxInSecondTab(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	account := env.Sandbox.Accounts()[0]
	first := openBrowser(t)

	signIn(t, first, env)
	second := first.newTab()
	if status := second.open(env.Apps[0].URL + "/home"); status != http.StatusOK {
		t.Fatalf("%s: GET /home = %d; want 200", second.name, status)
	}
	wantInbox(t, second, account, pageSize)
}

// The tests share one Chromium; each opens a browser context of its own,
// which starts with no cookie of another, though cookies ignore the port
// that tells the tests' apps apart.
func TestBrowserContextsShareNoCookies(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	app := env.Apps[0]
	signedIn := openBrowser(t)
	signIn(t, signedIn, env)
	if signedIn.cookie(app.URL, sessionCookie) == nil {
		t.Fatalf("%s after signing in: no %s cookie for %s", signedIn.name, sessionCookie, app.URL)
	}

	fresh := openBrowser(t)
	if c := fresh.cookie(app.URL, sessionCookie); c != nil {
		t.Errorf("a new browser context holds the other's %s cookie for %s", c.Name, app.URL)
	}
	fresh.open(app.URL + "/home")
	if got, want := fresh.location(), app.URL+"/"; got != want {
		t.Errorf("a new browser context: GET /home led to %s; want the start page %s", got, want)
	}
}

func TestExpiredTokenIsRefreshed(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	account := env.Sandbox.Accounts()[0]
	tb := openBrowser(t)

	// golang.org/x/oauth2 treats a token as expired 10 s early, so one that
	// lives 5 s is due for refresh as soon as it is stored.
	env.Sandbox.SetAccessTokenTTL(5 * time.Second)
	signIn(t, tb, env)
	env.Sandbox.SetAccessTokenTTL(time.Hour)

	before := env.Sandbox.Stats().RefreshGrants
	if status := tb.reload(); status != http.StatusOK {
		t.Fatalf("reload /home with an expired token = %d; want 200", status)
	}
	wantInbox(t, tb, account, pageSize)
	if got := env.Sandbox.Stats().RefreshGrants - before; got != 1 {
		t.Errorf("reload /home with an expired token: %d refresh grants; want 1", got)
	}

	// The fresh token went back into the cookie, so it is used from now on.
	before = env.Sandbox.Stats().RefreshGrants
	if status := tb.reload(); status != http.StatusOK {
		t.Fatalf("reload /home after the refresh = %d; want 200", status)
	}
	if got := env.Sandbox.Stats().RefreshGrants - before; got != 0 {
		t.Errorf("reload /home after the refresh: %d refresh grants; want 0 (the refreshed token was not kept)", got)
	}
}

// TestSecondSignInIsRenewedSilently signs in in this browser after another
// one granted access, so Google gives this one no refresh token. Past its
// token's expiry, a reload bounces through Google with prompt=none and
// lands back on the inbox, cookies and all, with no page in between.
func TestSecondSignInIsRenewedSilently(t *testing.T) {
	clock := apptest.NewClock()
	env := apptest.Start(t, apptest.Options{Now: clock.Now})
	account := env.Sandbox.Accounts()[0]
	apptest.NewBrowser(t).SignIn(t, env.Apps[0], account)
	tb := openBrowser(t)
	signIn(t, tb, env)

	clock.Advance(2 * time.Hour)
	before := env.Sandbox.Stats()
	if status := tb.reload(); status != http.StatusOK {
		t.Fatalf("reload /home with an expired token and no refresh token = %d; want 200", status)
	}
	if got := tb.path(); got != "/home" {
		t.Errorf("after the renewal the tab is at %s; want /home", got)
	}
	wantInbox(t, tb, account, pageSize)
	after := env.Sandbox.Stats()
	if got := after.TokenCalls - before.TokenCalls; got != 1 || after.RefreshGrants != before.RefreshGrants {
		t.Errorf("reload: %d token calls, %d refresh grants; want the one code exchange of a silent re-authorization",
			got, after.RefreshGrants-before.RefreshGrants)
	}
}

func TestGmailDownPage(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	app := env.Apps[0]
	tb := openBrowser(t)

	signIn(t, tb, env)
	breakGmail(env)
	tb.b.expectDocumentStatus(app.URL+"/home", http.StatusBadGateway)

	if status := tb.reload(); status != http.StatusBadGateway {
		t.Errorf("GET /home while Gmail fails = %d; want 502", status)
	}
	if got := tb.text("h1"); got != "Gmail isn't answering" {
		t.Errorf("GET /home while Gmail fails: h1 = %q; want Gmail isn't answering", got)
	}
	for _, part := range []string{"div.sandbox", "header.site a.brand", "main section.problem", "footer.site"} {
		if tb.count(part) != 1 {
			t.Errorf("error page lacks the shared layout's %s", part)
		}
	}

	env.Sandbox.ClearFaults()
	if got := tb.text(`main a.button[href="/home"]`); got != "Try again" {
		t.Fatalf("error page: link to /home says %q; want Try again", got)
	}
	wantPage(t, "click Try again", tb.click(`main a.button[href="/home"]`), app.URL+"/home", http.StatusOK)
	wantInbox(t, tb, env.Sandbox.Accounts()[0], pageSize)
}

func TestPagesFitSmallPhone(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	app := env.Apps[0]
	tb := openBrowser(t)
	tb.useScreen(smallPhone)
	wantFit := func() {
		t.Helper()
		if wider := tb.overflow(); wider > 0 {
			t.Errorf("GET %s on a %d px screen: %d px too wide, so it scrolls sideways", tb.path(), smallPhone.width, wider)
		}
	}

	tb.open(app.URL + "/")
	wantFit()
	signIn(t, tb, env)
	wantFit()
	// A message's ID and its thread's take one line, not two.
	split, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("li.message p.meta")].filter(meta => {
		const [id, thread] = meta.querySelectorAll("code");
		return id.getBoundingClientRect().top !== thread.getBoundingClientRect().top;
	}).length`))
	if err != nil {
		t.Fatal(err)
	}
	if rows := tb.count("li.message"); rows == 0 || split > 0 {
		t.Errorf("GET /home on a %d px screen: %d of %d rows show the message and thread IDs on two lines; want one", smallPhone.width, split, rows)
	}
	tb.click(`nav.pager a[rel="next"]`)
	wantFit()
	tb.b.expectDocumentStatus(app.URL+"/no-such-page", http.StatusNotFound)
	tb.open(app.URL + "/no-such-page")
	wantFit()
}

// TestConsoleWatchSeesProblems shows that the console checks of the other
// tests can fail: each kind of problem they look for is recorded.
func TestConsoleWatchSeesProblems(t *testing.T) {
	pages := map[string]string{
		"/csp":    `<style>p { color: red }</style><p>inline style under a CSP that forbids it`,
		"/script": `<script>console.error("logged by the page"); throw new Error("thrown by the page")</script>`,
		"/image":  `<img src="/missing.png" alt="">`,
		"/gone":   `<p>an error page`,
	}
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/csp":
			w.Header().Set("Content-Security-Policy", "default-src 'none'")
		case "/gone":
			w.WriteHeader(http.StatusGone)
		}
		fmt.Fprintf(w, "<!DOCTYPE html><title>%s</title>%s", r.URL.Path, body)
	}))
	t.Cleanup(site.Close)

	tb := startBrowser(t)
	tb.b.expectDocumentStatus(site.URL+"/gone", http.StatusGone)
	for _, path := range []string{"/csp", "/script", "/image", "/gone"} {
		tb.open(site.URL + path)
	}

	var kinds []string
	for _, p := range tb.b.consoleProblems() {
		kinds = append(kinds, p.kind)
		if strings.HasSuffix(p.url, "/gone") {
			t.Errorf("an expected error status was reported: %s", p)
		}
	}
	for _, want := range []string{"security error", "console.error", "uncaught exception", "network error"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %q among the problems recorded: %q", want, kinds)
		}
	}
}

// TestAnotherSiteSeesNoMail checks, with Chromium's own SameSite rules,
// what keeps mail from being a compression oracle (docs/security.md).
// Google is on another site than the app here (localhost against
// 127.0.0.1), as in production: the sign-in comes back through a request
// another site started and must still end on the inbox; and a link from
// another site to the inbox must end on the start page, with no mail.
func TestAnotherSiteSeesNoMail(t *testing.T) {
	env := apptest.Start(t, apptest.Options{SandboxHost: "localhost"})
	app := env.Apps[0]
	account := env.Sandbox.Accounts()[0]
	tb := openBrowser(t)

	toConsent(t, tb, env)
	// The callback's answer is the start page, which moves on by itself.
	step := tb.click(`button[name="decision"][value="allow"]`)
	if !strings.HasPrefix(step.URL, app.URL+"/callback?") || step.Status != http.StatusOK {
		t.Fatalf("click Allow at a Google on another site: got %s (%d); want the callback's page that moves on to the inbox", step.URL, step.Status)
	}
	if _, err := chromedp.Run(tb.ctx, chromedp.WaitVisible(chromedp.CSS("ol.messages"))); err != nil {
		t.Fatalf("after Allow at a Google on another site: %v (the tab is at %s)", err, tb.location())
	}
	if got := tb.path(); got != "/home" {
		t.Errorf("after Allow at a Google on another site the tab is at %s; want /home", got)
	}
	wantInbox(t, tb, account, pageSize)

	// A page of another site that links to the inbox.
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><title>Elsewhere</title><a id="inbox" href="%s/home">your inbox</a></html>`, app.URL)
	}))
	t.Cleanup(attacker.Close)
	_, port, _ := net.SplitHostPort(attacker.Listener.Addr().String())
	tb.open("http://localhost:" + port + "/")
	landed := tb.click("#inbox")
	if landed.URL != app.URL+"/" || landed.Status != http.StatusOK {
		t.Fatalf("a link from another site to /home led to %s (%d); want the start page, %s/ (200)", landed.URL, landed.Status, app.URL)
	}
	if n := tb.count("li.message"); n != 0 {
		t.Errorf("a link from another site to /home shows %d messages; want none", n)
	}
	// From the start page, the app's own link shows the inbox again.
	wantPage(t, "click Open unread mail", tb.click(`a[href="/home"]`), app.URL+"/home", http.StatusOK)
	wantInbox(t, tb, account, pageSize)
}
