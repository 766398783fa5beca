package web_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/sandbox"
	"gmailoauth/internal/web"
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
		"client_id":             config.SandboxClientID,
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

func TestSecureCookiesOverHTTPS(t *testing.T) {
	_, app := start(t, apptest.Options{Edit: func(o *web.Options) { o.SecureCookies = true }})
	resp := apptest.NewBrowser(t).Get(t, app.URL+"/oauth")
	c := resp.Cookies()[0]
	if !c.Secure || !strings.HasPrefix(c.Name, "__Host-") {
		t.Errorf("cookie %s Secure=%v; want Secure with the __Host- prefix", c.Name, c.Secure)
	}
}

func TestSignInAndInbox(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	if got := env.Sandbox.Stats().TokenCalls; got != 1 {
		t.Errorf("token endpoint calls = %d; want 1", got)
	}

	first := b.Get(t, app.URL+"/home")
	wantStatus(t, first, http.StatusOK)
	if got := first.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("GET /home Cache-Control = %q; want no-store", got)
	}
	doc := apptest.Parse(t, first.Body)
	if n := messageCount(t, first); n != 50 {
		t.Fatalf("GET /home shows %d messages; want 50", n)
	}
	count := apptest.Text(apptest.Find(doc, "p.count"))
	if !strings.HasPrefix(count, "About ") || !strings.Contains(count, " unread") {
		t.Errorf("count = %q; want \"About N unread\"", count)
	}
	if who := apptest.Find(doc, "span.who"); who == nil || apptest.Text(who) != hanako {
		t.Errorf("header does not name the account %s", hanako)
	}
	pager := apptest.Find(doc, "nav.pager")
	if pager == nil {
		t.Fatal("GET /home: no pager; want an Older link (more than 50 unread)")
	}
	older := apptest.Find(pager, "a")
	if apptest.Text(older) != "Older →" {
		t.Fatalf("pager link = %q; want Older →", apptest.Text(older))
	}

	second := b.Get(t, app.URL+apptest.Attr(older, "href"))
	wantStatus(t, second, http.StatusOK)
	total := 50 + messageCount(t, second)
	seen := map[string]bool{}
	for _, resp := range []*apptest.Response{first, second} {
		for _, code := range apptest.FindAll(apptest.Parse(t, resp.Body), "code") {
			seen[apptest.Text(code)] = true
		}
	}
	if total <= 50 || total > 100 {
		t.Errorf("two pages show %d messages; want 51..100", total)
	}
	secondDoc := apptest.Parse(t, second.Body)
	links := apptest.FindAll(apptest.Find(secondDoc, "nav.pager"), "a")
	if len(links) != 1 || apptest.Text(links[0]) != "← Newer" || apptest.Attr(links[0], "href") != "/home" {
		t.Errorf("last page pager = %d links; want only \"← Newer\" to /home", len(links))
	}
}

func TestInboxEmptyMailbox(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, empty)
	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	doc := apptest.Parse(t, resp.Body)
	if h := apptest.Find(doc, "h2"); h == nil || apptest.Text(h) != "No unread messages" {
		t.Errorf("empty mailbox page lacks \"No unread messages\"\n%s", clipBody(resp.Body))
	}
	if n := messageCount(t, resp); n != 0 {
		t.Errorf("empty mailbox shows %d messages", n)
	}
}

func TestInboxStalePageToken(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	resp := b.Get(t, app.URL+"/home?page=12345678901234567890")
	wantStatus(t, resp, http.StatusBadRequest)
	if got := heading(t, resp); got != "That page of your inbox is out of date" {
		t.Errorf("h1 = %q; want the stale-page page", got)
	}
	wantStatus(t, b.Get(t, app.URL+"/home?page=not/a/token"), http.StatusBadRequest)
}

func TestHomeSignedOutGoesToStart(t *testing.T) {
	_, app := start(t, apptest.Options{})
	wantRedirect(t, apptest.NewBrowser(t).Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
}

func TestInboxRendersStrangersTextSafely(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	var pages [][]byte
	for path := "/home"; path != "" && len(pages) < 5; {
		resp := b.Get(t, app.URL+path)
		wantStatus(t, resp, http.StatusOK)
		pages = append(pages, resp.Body)
		path = ""
		if pager := apptest.Find(apptest.Parse(t, resp.Body), "nav.pager"); pager != nil {
			for _, a := range apptest.FindAll(pager, "a") {
				if apptest.Attr(a, "rel") == "next" {
					path = apptest.Attr(a, "href")
				}
			}
		}
	}
	all := bytes.Join(pages, nil)
	if bytes.Contains(all, []byte("<script")) {
		t.Errorf("inbox contains a raw <script: strangers' HTML reached the page unescaped")
	}
	var subjects, senders []string
	for _, page := range pages {
		doc := apptest.Parse(t, page)
		for _, p := range apptest.FindAll(doc, "p.subject") {
			subjects = append(subjects, apptest.Text(p))
		}
		for _, s := range apptest.FindAll(doc, "span.from") {
			senders = append(senders, apptest.Text(s))
		}
	}
	wantSubject := func(part string) {
		t.Helper()
		if !slices.ContainsFunc(subjects, func(s string) bool { return strings.Contains(s, part) }) {
			t.Errorf("no subject shows %q as text", part)
		}
	}
	wantSubject(`<script>alert("x")</script>`) // shown as text, not run
	wantSubject("(no subject)")
	wantSubject("【重要】")
	if !slices.ContainsFunc(senders, func(s string) bool { return strings.Contains(s, "佐藤") }) {
		t.Errorf("no Japanese sender name among %d senders", len(senders))
	}
	if bytes.Contains(all, []byte("&amp;#39;")) || bytes.Contains(all, []byte("&amp;lt;")) {
		t.Errorf("a snippet was escaped twice (&amp;#39; or &amp;lt; on the page)")
	}
}

func TestInboxShowsDatesAndLinks(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	doc := apptest.Parse(t, b.Get(t, app.URL+"/home").Body)
	items := apptest.FindAll(doc, "li.message")
	var dated, linked int
	for _, li := range items {
		if tm := apptest.Find(li, "time"); tm != nil {
			if _, err := time.Parse(time.RFC3339, apptest.Attr(tm, "datetime")); err != nil {
				t.Errorf("<time datetime=%q>: %v", apptest.Attr(tm, "datetime"), err)
			}
			if apptest.Text(tm) == "" {
				t.Errorf("<time> without text")
			}
			dated++
		}
		for _, a := range apptest.FindAll(li, "a") {
			if strings.Contains(apptest.Attr(a, "href"), "/message/") && apptest.Attr(a, "rel") == "noopener noreferrer" {
				linked++
			}
		}
	}
	if dated < len(items)-1 || linked != len(items) {
		t.Errorf("%d messages: %d dated, %d linked to the message; want all linked and all but at most one dated", len(items), dated, linked)
	}
}

func TestInboxKeepsMessagesWhoseDetailsFailed(t *testing.T) {
	env, app := start(t, apptest.Options{PageTimeout: 2 * time.Second, CallTimeout: time.Second})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	// One metadata call fails for good (404 is not retried); the rest of
	// the page must still show.
	env.Sandbox.InjectFaults(sandbox.Fault{Call: "get", Status: 404})
	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	doc := apptest.Parse(t, resp.Body)
	failed := apptest.FindAll(doc, "li.failed")
	if len(failed) != 1 || messageCount(t, resp) != 50 {
		t.Fatalf("GET /home: %d messages, %d failed; want 50 with 1 failed", messageCount(t, resp), len(failed))
	}
	if ids := apptest.FindAll(failed[0], "code"); len(ids) != 2 || apptest.Text(ids[0]) == "" {
		t.Errorf("the failed message does not show its ID and thread ID")
	}
	if notice := apptest.Find(doc, "p.notice"); notice == nil || !strings.Contains(apptest.Text(notice), "1 message") {
		t.Errorf("no quiet note about the message whose details failed")
	}
	// The failure was not cached: the next view has every message whole.
	again := b.Get(t, app.URL+"/home")
	if n := len(apptest.FindAll(apptest.Parse(t, again.Body), "li.failed")); n != 0 {
		t.Errorf("second view: %d failed messages; want 0 (failures are not cached)", n)
	}
}

func TestInboxCacheKeepsAccountsApart(t *testing.T) {
	cache := gmail.NewCache(1 << 20)
	_, app := start(t, apptest.Options{Cache: cache})
	subjects := func(account string) []string {
		t.Helper()
		b := apptest.NewBrowser(t)
		b.SignIn(t, app, account)
		var out []string
		for range 2 { // the second view is served from the cache
			out = nil
			for _, p := range apptest.FindAll(apptest.Parse(t, b.Get(t, app.URL+"/home").Body), "p.subject") {
				out = append(out, apptest.Text(p))
			}
		}
		return out
	}
	hanakos, alexs := subjects(hanako), subjects(alex)
	for _, s := range alexs {
		if slices.Contains(hanakos, s) {
			t.Errorf("alex's inbox shows %q, which is hanako's", s)
		}
	}
	if len(alexs) == 0 || len(hanakos) != 50 || cache.Len() != 50+len(alexs) {
		t.Errorf("hanako %d, alex %d messages, cache %d entries; want 50, >0, their sum", len(hanakos), len(alexs), cache.Len())
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
		{"missing state", func(_, code string) string { return "code=" + code }, 400, "This sign-in link is not valid"},
		{"forged state", func(_, code string) string { return "state=forged-" + code[:8] + "&code=" + code }, 400, "This sign-in link is not valid"},
		{"empty state", func(_, code string) string { return "state=&code=" + code }, 400, "This sign-in link is not valid"},
		{"missing code", func(state, _ string) string { return "state=" + state }, 400, "Bad request"},
		{"unparsable query", func(state, code string) string { return "state=" + state + "&code=%zz" }, 400, "Bad request"},
		{"oversized state", func(_, code string) string { return "state=" + strings.Repeat("a", 5000) + "&code=" + code }, 400, "Bad request"},
		{"oversized code", func(state, _ string) string { return "state=" + state + "&code=" + strings.Repeat("c", 9000) }, 400, "Bad request"},
		{"garbage bytes", func(state, code string) string { return "state=%00%ff%fe&code=%c3%28" }, 400, "This sign-in link is not valid"},
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

func TestCallbackReplayedState(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	back := b.Decide(t, b.StartSignIn(t, app), "allow").Location(t).String()
	wantRedirect(t, b.Get(t, back), http.StatusSeeOther, "/home")
	replay := b.Get(t, back)
	wantStatus(t, replay, http.StatusBadRequest)
	if got := env.Sandbox.Stats().TokenCalls; got != 1 {
		t.Errorf("token endpoint calls = %d; want 1: the replay must not reach Google", got)
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

func TestCallbackAccessDenied(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	back := b.Decide(t, b.StartSignIn(t, app), "deny")
	if got := back.Location(t).Query().Get("error"); got != "access_denied" {
		t.Fatalf("sandbox redirect error = %q; want access_denied", got)
	}
	resp := b.Get(t, back.Location(t).String())
	wantStatus(t, resp, http.StatusOK)
	if got := heading(t, resp); got != "You declined access" {
		t.Errorf("h1 = %q; want \"You declined access\"", got)
	}
	var retry bool
	for _, a := range apptest.FindAll(apptest.Parse(t, resp.Body), "a") {
		retry = retry || apptest.Attr(a, "href") == "/oauth"
	}
	if !retry {
		t.Errorf("declined page offers no way to try again (link to /oauth)")
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
	page := b.Get(t, start.String())
	wantStatus(t, page, http.StatusOK)
	action, form := apptest.ParseForm(t, page)
	form["scope"] = slices.DeleteFunc(form["scope"], func(s string) bool { return s == web.GmailScope })
	if len(form["scope"]) == 0 {
		t.Fatalf("consent form has no other ticked scope to keep: %v", form)
	}
	consent := &apptest.Consent{Page: page, Action: action, Form: form}
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
		{"one bit flipped", string(flipped)},
		{"truncated", cookie.Value[:len(cookie.Value)/2]},
		{"sealed with another app's keys", foreignValue},
		{"garbage", "%%%not-base64%%%"},
		{"empty", ""},
		{"huge", strings.Repeat("A", 4000)},
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
	b.StartSignIn(t, app)
	b.StartSignIn(t, app)
	b.SignIn(t, app, hanako) // three attempts were open: the cookie at its largest
	appURL, _ := url.Parse(app.URL)
	raw := b.Jar.Cookies(appURL)[0].Value
	if len(raw) >= 4096 {
		t.Errorf("cookie is %d bytes; want < 4096", len(raw))
	}

	// With both keys the test can open it, as the app does...
	var values map[any]any
	if err := securecookie.DecodeMulti("gmail_session", raw, &values, securecookie.New(keys[0], keys[1])); err != nil {
		t.Fatalf("decode with the app's keys: %v", err)
	}
	// ...with the hash key alone it stays sealed.
	if err := securecookie.New(keys[0], nil).Decode("gmail_session", raw, &values); err == nil {
		t.Errorf("cookie decodes without the encryption key: tokens would be readable")
	}
	// Unwrapped as far as anyone without the keys can: the cookie is
	// base64 of "date|value|mac", and value is base64 of the payload. Sealed,
	// the payload is ciphertext; signed only, it would be gob naming the
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

func TestGmailFailures(t *testing.T) {
	tests := []struct {
		name           string
		faults         []sandbox.Fault
		wantStatus     int
		wantH1         string
		wantRetryAfter string
		wantSignedOut  bool
	}{
		{"401 token refused", []sandbox.Fault{{Call: "list", Status: 401}}, 303, "", "", true},
		{"403 forbidden", []sandbox.Fault{{Call: "list", Status: 403}}, 403, "Permission missing", "", false},
		{"429 rate limited", repeat(sandbox.Fault{Call: "list", Status: 429, RetryAfter: 30 * time.Second}, 4), 429, "Gmail asks us to slow down", "30", false},
		{"500s", repeat(sandbox.Fault{Call: "list", Status: 500}, 4), 502, "Gmail isn't answering", "", false},
		{"503s", repeat(sandbox.Fault{Call: "list", Status: 503}, 4), 502, "Gmail isn't answering", "", false},
		{"timeout", repeat(sandbox.Fault{Call: "list", Delay: 10 * time.Second}, 4), 502, "Gmail isn't answering", "", false},
		{"malformed JSON", repeat(sandbox.Fault{Call: "list", Malformed: true}, 4), 502, "Gmail isn't answering", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Deadlines short enough to keep the test quick, long enough that
			// the calls that are not delayed finish on a busy machine.
			env, app := start(t, apptest.Options{PageTimeout: 2 * time.Second, CallTimeout: time.Second})
			b := apptest.NewBrowser(t)
			b.SignIn(t, app, hanako)
			env.Sandbox.InjectFaults(tt.faults...)
			resp := b.Get(t, app.URL+"/home")
			wantStatus(t, resp, tt.wantStatus)
			if tt.wantH1 != "" {
				if got := heading(t, resp); got != tt.wantH1 {
					t.Errorf("h1 = %q; want %q", got, tt.wantH1)
				}
				if apptest.Find(apptest.Parse(t, resp.Body), "span.who") == nil {
					t.Errorf("error page header does not show the signed-in account (and its Sign out)")
				}
			}
			if got := resp.Header.Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After = %q; want %q", got, tt.wantRetryAfter)
			}
			if bytes.Contains(resp.Body, []byte("goroutine ")) || bytes.Contains(resp.Body, []byte("gmail:")) {
				t.Errorf("error page shows internals:\n%s", clipBody(resp.Body))
			}
			env.Sandbox.ClearFaults()
			next := b.Get(t, app.URL+"/home")
			if tt.wantSignedOut {
				wantRedirect(t, resp, http.StatusSeeOther, "/")
				wantRedirect(t, next, http.StatusSeeOther, "/")
				notice := apptest.Find(apptest.Parse(t, b.Get(t, app.URL+"/").Body), "p.notice")
				if notice == nil || !strings.Contains(apptest.Text(notice), "Connect again") {
					t.Errorf("start page after a refused token does not explain it")
				}
			} else {
				wantStatus(t, next, http.StatusOK)
			}
		})
	}
}

func repeat(f sandbox.Fault, n int) []sandbox.Fault {
	out := make([]sandbox.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func TestTokenRefresh(t *testing.T) {
	env, app := start(t, apptest.Options{})
	// golang.org/x/oauth2 refreshes 10 s before expiry, so a token issued
	// with a 5 s lifetime is already due: the one stored at sign-in will be
	// refreshed at the next page view, without waiting.
	env.Sandbox.SetAccessTokenTTL(5 * time.Second)
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	env.Sandbox.SetAccessTokenTTL(time.Hour)
	appURL, _ := url.Parse(app.URL)
	before := b.Jar.Cookies(appURL)[0].Value
	grants := env.Sandbox.Stats().RefreshGrants

	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	if got := env.Sandbox.Stats().RefreshGrants; got != grants+1 {
		t.Errorf("refresh grants = %d; want %d", got, grants+1)
	}
	if len(resp.Cookies()) != 1 || b.Jar.Cookies(appURL)[0].Value == before {
		t.Errorf("GET /home after a refresh set %d cookies; want the new token written back", len(resp.Cookies()))
	}

	again := b.Get(t, app.URL+"/home")
	wantStatus(t, again, http.StatusOK)
	if got := env.Sandbox.Stats().RefreshGrants; got != grants+1 {
		t.Errorf("refresh grants = %d; want %d: the stored fresh token is used as it is", got, grants+1)
	}
	if len(again.Cookies()) != 0 {
		t.Errorf("GET /home with a fresh token set %d cookies; want none", len(again.Cookies()))
	}
}

func TestRevokedRefreshTokenSignsInAgain(t *testing.T) {
	env, app := start(t, apptest.Options{})
	env.Sandbox.SetAccessTokenTTL(5 * time.Second)
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	env.Sandbox.RevokeAccount(hanako)
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
	notice := apptest.Find(apptest.Parse(t, b.Get(t, app.URL+"/").Body), "p.notice")
	if notice == nil {
		t.Errorf("start page does not say why the person was signed out")
	}
}

func TestLogout(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)

	crossSite, _ := http.NewRequest(http.MethodPost, app.URL+"/logout", nil)
	crossSite.Header.Set("Origin", "https://evil.example")
	crossSite.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, b.Do(t, crossSite), http.StatusForbidden)
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	if got := env.Sandbox.Stats().RevokeCalls; got != 0 {
		t.Fatalf("revocations after a cross-site POST = %d; want 0", got)
	}

	resp := b.PostForm(t, app.URL+"/logout", app.URL, nil)
	wantRedirect(t, resp, http.StatusSeeOther, "/")
	if got := env.Sandbox.Stats().RevokeCalls; got != 1 {
		t.Errorf("revocations = %d; want 1", got)
	}
	cleared := resp.Cookies()
	if len(cleared) != 1 || cleared[0].MaxAge >= 0 {
		t.Errorf("logout cookies = %v; want the session cookie deleted", cleared)
	}
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
}

func TestLogoutStillSignsOutWhenRevocationFails(t *testing.T) {
	_, app := start(t, apptest.Options{Edit: func(o *web.Options) { o.RevokeURL = "http://127.0.0.1:1/revoke" }})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	wantRedirect(t, b.PostForm(t, app.URL+"/logout", app.URL, nil), http.StatusSeeOther, "/")
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
}

func TestEveryResponseCarriesSecurityHeaders(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	requests := []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/oauth"}, {"GET", "/callback"}, {"GET", "/home"},
		{"POST", "/logout"}, {"GET", "/static/style.css"}, {"GET", "/healthz"},
		{"GET", "/nope"}, {"GET", "/logout"}, {"DELETE", "/"},
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

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	tests := []struct {
		method, path string
		status       int
		h1, allow    string
	}{
		{"GET", "/nope", 404, "Page not found", ""},
		{"GET", "/static/", 404, "Page not found", ""},
		{"GET", "/static/missing.css", 404, "", ""},
		{"GET", "/logout", 405, "That doesn't work here", "POST"},
		{"POST", "/home", 405, "That doesn't work here", "GET, HEAD"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, app.URL+tt.path, nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp := b.Do(t, req)
		wantStatus(t, resp, tt.status)
		if tt.h1 != "" {
			if got := heading(t, resp); got != tt.h1 {
				t.Errorf("%s %s: h1 = %q; want %q", tt.method, tt.path, got, tt.h1)
			}
		}
		if got := resp.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q; want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	for _, tt := range []struct{ path, contentType string }{
		{"/static/style.css", "text/css"},
		{"/static/favicon.svg", "image/svg+xml"},
		{"/favicon.ico", "image/svg+xml"},
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

func TestBrokenTemplateFailsAtStart(t *testing.T) {
	templates := apptest.MapFS(t, apptest.Templates(t))
	templates["inbox.html"].Data = []byte(`{{define "main"}}{{range .Messages}}{{end}`)
	opts := web.Options{
		ClientID: "id", RedirectURL: "http://127.0.0.1/callback", AuthURL: "http://a", TokenURL: "http://t",
		SessionKeys: newKeys(t), Templates: templates, Static: apptest.Static(t),
	}
	opts.Gmail = newGmailService(t)
	if _, err := web.New(opts); err == nil || !strings.Contains(err.Error(), "inbox.html") {
		t.Errorf("web.New with a broken inbox.html: err = %v; want one naming inbox.html", err)
	}
}

func TestTemplateErrorIsACleanPage(t *testing.T) {
	templates := apptest.MapFS(t, apptest.Templates(t))
	templates["index.html"].Data = []byte(`{{define "main"}}<p>half a page</p>{{.NoSuchField}}{{end}}`)
	_, app := start(t, apptest.Options{Edit: func(o *web.Options) { o.Templates = templates }})
	resp := apptest.NewBrowser(t).Get(t, app.URL+"/")
	wantStatus(t, resp, http.StatusInternalServerError)
	if bytes.Contains(resp.Body, []byte("half a page")) || bytes.Contains(resp.Body, []byte("NoSuchField")) {
		t.Errorf("template error leaked half a page or internals:\n%s", clipBody(resp.Body))
	}
	if got := heading(t, resp); got != "Something went wrong on our side" {
		t.Errorf("h1 = %q; want the shared error page", got)
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	var logs apptest.LogBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys := newKeys(t)
	env, app := start(t, apptest.Options{Logger: logger, SessionKeys: keys})
	env.Sandbox.SetAccessTokenTTL(5 * time.Second) // exercise refresh too
	b := apptest.NewBrowser(t)
	back := b.Decide(t, b.StartSignIn(t, app), "allow").Location(t)
	b.Get(t, back.String())
	b.Get(t, app.URL+"/home")
	b.Get(t, back.String()) // a replay, logged as a warning
	b.Get(t, app.URL+"/callback?state=x&code=attacker-code-12345")
	env.Sandbox.InjectFaults(sandbox.Fault{Call: "list", Status: 403})
	b.Get(t, app.URL+"/home")

	appURL, _ := url.Parse(app.URL)
	var values map[any]any
	if err := securecookie.DecodeMulti("gmail_session", b.Jar.Cookies(appURL)[0].Value, &values, securecookie.New(keys[0], keys[1])); err != nil {
		t.Fatal(err)
	}
	secrets := []string{back.Query().Get("code"), back.Query().Get("state"), "attacker-code-12345"}
	secrets = append(secrets, web.SessionSecrets(values)...)
	b.PostForm(t, app.URL+"/logout", app.URL, nil)

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

// The app never redirects to a URL taken from a request, and never builds a
// URL from the Host header: every Location is one of its own paths or the
// configured authorization endpoint.
func TestRedirectsNeverLeaveForRequestValues(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	hostile := []struct{ method, path string }{
		{"GET", "/oauth?next=https://evil.example/&redirect_uri=https://evil.example/cb"},
		{"GET", "/home?next=//evil.example"},
		{"GET", "/callback?state=x&code=y&next=https://evil.example"},
		{"POST", "/logout?next=https://evil.example"},
		{"GET", "//evil.example/"},
		{"GET", "/home/../oauth"},
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

// Behind a reverse proxy the Host header can differ from the public name; a
// same-site sign-out from the public origin (the redirect URL's) must still
// work, and one from elsewhere must not.
func TestLogoutBehindProxy(t *testing.T) {
	_, app := start(t, apptest.Options{})
	for _, tt := range []struct {
		origin string
		want   int
	}{
		{app.URL, http.StatusSeeOther},
		{"https://evil.example", http.StatusForbidden},
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
