package loadtest

import (
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"gmailoauth/internal/sandbox"
)

// maxBody bounds what a client reads of a response; the largest inbox page
// is far smaller.
const maxBody = 1 << 20

// maxFailures bounds the rule breaks a client keeps for the report.
const maxFailures = 20

// olderLink finds the inbox's "Older" link, as html/template writes it.
var olderLink = regexp.MustCompile(`href="(/home\?page=[^"]*)" rel="next"`)

// messageItem finds each message of an inbox page whose details loaded.
var messageItem = regexp.MustCompile(`<li class="message">`)

// consentID finds the hidden consent_id of the sandbox's consent form.
var consentID = regexp.MustCompile(`name="consent_id" value="([^"]*)"`)

// revokedNotice is what the start page says to a person whose grant ended.
const revokedNotice = "expired or was revoked"

// client is one simulated person: a browser with its own signed-in session
// that keeps clicking around the app, and what it saw.
type client struct {
	appURL         string
	sandboxURL     string
	account        string
	revokedAccount bool // its account's tokens are revoked mid-run
	signedInAgain  bool // after the revocation, with a fresh grant
	http           *http.Client
	rng            *rand.Rand
	older          string // the Older link of the last inbox page, or ""

	statuses        map[string]map[int]int // by route, then status
	latencies       []time.Duration
	homeLatencies   []time.Duration
	failures        []string
	failureCount    int
	transportErrors int
	sentToSignIn    bool
	// renewedAfterRevocation: a client of the revoked account still saw
	// its inbox after the run, never sent to sign in. Its token can only
	// be a silent renewal's, after another client of the account granted
	// access again, which Google allows.
	renewedAfterRevocation bool
}

func newClient(id int, appURL, sandboxURL, account string, revokedAccount bool, hc *http.Client, seed uint64) *client {
	return &client{
		appURL:         appURL,
		sandboxURL:     sandboxURL,
		account:        account,
		revokedAccount: revokedAccount,
		http:           hc,
		rng:            rand.New(rand.NewPCG(seed, uint64(id))),
		statuses:       map[string]map[int]int{},
	}
}

// run sends maxRequests requests, or fewer if deadline (unless zero) comes
// first, calling sending before each. Mostly it reads the inbox, sometimes
// the next page of it; now and then it opens the start page, starts a
// sign-in it never finishes, or sends the callback junk.
func (c *client) run(maxRequests int, deadline time.Time, sending func(), revoked *atomic.Bool) {
	for i := 0; i < maxRequests && (deadline.IsZero() || time.Now().Before(deadline)); i++ {
		sending()
		switch n := c.rng.IntN(100); {
		case n < 65:
			c.home(revoked)
		case n < 75:
			c.index()
		case n < 82:
			c.oauth()
		default:
			c.callback()
		}
	}
}

// home reads the inbox, or its next page when the last one had a link.
func (c *client) home(revoked *atomic.Bool) {
	route, path := "/home", "/home"
	if c.older != "" && c.rng.IntN(3) == 0 {
		route, path = "/home?page", c.older
	}
	c.older = ""
	resp, body, ok := c.getInbox(route, path)
	if !ok {
		return
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if m := olderLink.FindSubmatch(body); m != nil {
			c.older = html.UnescapeString(string(m[1]))
		}
	case http.StatusSeeOther:
		// Read after the response: the flag is set before the revocation,
		// so a 303 caused by it always finds the flag set.
		switch {
		case !c.revokedAccount || c.signedInAgain || !revoked.Load():
			c.fail("GET %s = 303 to %q for an account still granted; want 200, 429 or 502", route, resp.Header.Get("Location"))
		case resp.Header.Get("Location") != "/":
			c.fail("GET %s = 303 to %q after revocation; want 303 to /", route, resp.Header.Get("Location"))
		default:
			c.sentToSignIn = true
			c.signInAgain()
		}
	case http.StatusTooManyRequests:
		if resp.Header.Get("Retry-After") == "" {
			c.fail("GET %s = 429 without Retry-After", route)
		}
	case http.StatusBadGateway:
		// Gmail failed past every retry: the app says so, which is right.
	default:
		c.fail("GET %s = %d; want 200, 303, 429 or 502", route, resp.StatusCode)
	}
}

// getInbox GETs path, a page of the inbox, as a browser does: a 302 is a
// silent re-authorization, which renews a token that came without a
// refresh token, and getInbox follows it through (see followRenewal).
func (c *client) getInbox(route, path string) (*http.Response, []byte, bool) {
	resp, body, ok := c.get(route, path)
	if ok && resp.StatusCode == http.StatusFound {
		return c.followRenewal(route, resp)
	}
	return resp, body, ok
}

// followRenewal follows a silent re-authorization from /home as a browser
// does: to Google with prompt=none, which answers at once with a redirect
// to the callback, which sends the person back to the page (whose response
// it returns) or, when Google refused, to the start page (it returns that
// 303).
func (c *client) followRenewal(route string, resp *http.Response) (*http.Response, []byte, bool) {
	google, err := resp.Location()
	if err != nil || !strings.HasPrefix(google.String(), c.sandboxURL+sandbox.AuthPath+"?") || google.Query().Get("prompt") != "none" {
		c.fail("GET %s = 302 to %v; want a silent re-authorization at %s", route, google, sandbox.AuthPath)
		return nil, nil, false
	}
	answer, err := c.http.Get(google.String())
	if err != nil {
		c.transportErrors++
		c.fail("GET %s with prompt=none: %v", sandbox.AuthPath, err)
		return nil, nil, false
	}
	answer.Body.Close()
	back, err := answer.Location()
	if err != nil || answer.StatusCode != http.StatusFound || !strings.HasPrefix(back.String(), c.appURL+"/callback?") {
		c.fail("GET %s with prompt=none = %d to %v; want a redirect to the callback and no page", sandbox.AuthPath, answer.StatusCode, back)
		return nil, nil, false
	}
	callback, body, ok := c.get("/callback (renewal)", strings.TrimPrefix(back.String(), c.appURL))
	switch {
	case !ok:
		return nil, nil, false
	case callback.StatusCode == http.StatusBadGateway:
		// Google did not answer the code exchange in time: an outage page,
		// the session kept for the next try.
		return callback, body, true
	case callback.StatusCode != http.StatusSeeOther:
		c.fail("GET /callback after prompt=none = %d; want 303, or 502 when Google is slow", callback.StatusCode)
		return nil, nil, false
	}
	if next := callback.Header.Get("Location"); strings.HasPrefix(next, "/home") {
		return c.get(route+" (renewed)", next)
	}
	return callback, nil, true
}

func (c *client) index() {
	if resp, _, ok := c.get("/", "/"); ok && resp.StatusCode != http.StatusOK {
		c.fail("GET / = %d; want 200", resp.StatusCode)
	}
}

// signInAgain does what a person sent back to the start does: reads why,
// connects again, allows at Google, and lands on the inbox.
func (c *client) signInAgain() {
	resp, body, ok := c.get("/", "/")
	if !ok {
		return
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), revokedNotice) {
		c.fail("GET / after a revocation = %d without %q; want 200 saying why", resp.StatusCode, revokedNotice)
		return
	}
	resp, _, ok = c.get("/oauth", "/oauth")
	if !ok || !c.checkOAuth(resp) {
		return
	}
	consent, err := c.http.Get(resp.Header.Get("Location"))
	if err != nil {
		c.fail("GET consent page: %v", err)
		return
	}
	page, err := io.ReadAll(io.LimitReader(consent.Body, maxBody))
	consent.Body.Close()
	id := consentID.FindSubmatch(page)
	if err != nil || consent.StatusCode != http.StatusOK || id == nil {
		c.fail("GET consent page = %d (%v); want 200 with a consent form", consent.StatusCode, err)
		return
	}
	form := url.Values{
		"consent_id": {html.UnescapeString(string(id[1]))},
		"account":    {c.account},
		"scope":      {sandbox.GmailScope},
		"decision":   {"allow"},
	}
	req, err := http.NewRequest(http.MethodPost, c.sandboxURL+sandbox.AuthPath, strings.NewReader(form.Encode()))
	if err != nil {
		c.fail("consent form: %v", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.sandboxURL)
	decided, err := c.http.Do(req)
	if err != nil {
		c.fail("POST consent: %v", err)
		return
	}
	decided.Body.Close()
	back, err := decided.Location()
	if err != nil || !strings.HasPrefix(back.String(), c.appURL+"/callback?") {
		c.fail("POST consent = %d to %v; want a redirect to the callback", decided.StatusCode, back)
		return
	}
	resp, _, ok = c.get("/callback (sign-in)", strings.TrimPrefix(back.String(), c.appURL))
	if !ok {
		return
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/home" {
		c.fail("GET /callback = %d to %q; want 303 to /home", resp.StatusCode, resp.Header.Get("Location"))
		return
	}
	c.signedInAgain = true
}

// oauth starts a sign-in and abandons it at Google, which adds a pending
// attempt to the session as a person's extra tabs would.
func (c *client) oauth() {
	if resp, _, ok := c.get("/oauth", "/oauth"); ok {
		c.checkOAuth(resp)
	}
}

// checkOAuth reports whether /oauth redirected to the sandbox's consent.
func (c *client) checkOAuth(resp *http.Response) bool {
	authURL := c.sandboxURL + sandbox.AuthPath
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, authURL+"?") {
		c.fail("GET /oauth = %d to %.80q; want 302 to %s", resp.StatusCode, loc, authURL)
		return false
	}
	return true
}

// callback sends a callback no sign-in of this session started. The
// session is signed in, so one that passes the checks of its form finds
// no attempt of its state and goes to the inbox while the token is fresh,
// or, when it is due and cannot be refreshed, renews it silently.
func (c *client) callback() {
	resp, _, ok := c.get("/callback", "/callback?"+junkCallbackQuery(c.rng))
	if !ok {
		return
	}
	loc := resp.Header.Get("Location")
	toInbox := resp.StatusCode == http.StatusSeeOther && loc == "/home"
	renews := resp.StatusCode == http.StatusFound && strings.HasPrefix(loc, c.sandboxURL+sandbox.AuthPath+"?") && strings.Contains(loc, "&prompt=none&")
	if resp.StatusCode != http.StatusBadRequest && !toInbox && !renews {
		c.fail("GET /callback with junk = %d to %q; want 400, 303 to /home, or a silent renewal", resp.StatusCode, loc)
	}
}

// junkCallbackQuery is a callback query a stranger might send: unknown,
// garbled, oversized or contradictory values.
func junkCallbackQuery(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		return ""
	case 1: // well-formed, but no sign-in of this session
		return "state=" + randomToken(r, 43) + "&code=4/" + randomToken(r, 70) + "&scope=" + url.QueryEscape(sandbox.GmailScope)
	case 2: // arbitrary bytes, invalid UTF-8 included
		return "state=" + url.QueryEscape(randomBytes(r, 1+r.IntN(64))) + "&code=" + url.QueryEscape(randomBytes(r, 1+r.IntN(256)))
	case 3:
		return "state=" + strings.Repeat("s", 129+r.IntN(4000)) + "&code=x"
	case 4:
		return "state=" + randomToken(r, 43) + "&code=" + strings.Repeat("c", 2049+r.IntN(6000))
	case 5: // broken percent escapes
		return "state=%zz" + randomToken(r, 8) + "&code=%"
	case 6:
		return "error=access_denied&state=" + randomToken(r, 43)
	case 7: // far past any real callback
		return strings.Repeat("a=b&", 2100+r.IntN(2000)) + "state=x&code=y"
	case 8:
		return "state=a&state=" + randomToken(r, 43) + "&code=c&code=d&error=" + url.QueryEscape(randomBytes(r, 16))
	default:
		return "code=" + randomToken(r, 70)
	}
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func randomToken(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = tokenAlphabet[r.IntN(len(tokenAlphabet))]
	}
	return string(b)
}

func randomBytes(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

// get sends one request and records its status and latency. ok is false
// when no response came, which is itself a failure.
func (c *client) get(route, path string) (resp *http.Response, body []byte, ok bool) {
	start := time.Now()
	resp, err := c.http.Get(c.appURL + path)
	if err != nil {
		c.transportErrors++
		c.fail("GET %s: %v", route, err)
		return nil, nil, false
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		c.transportErrors++
		c.fail("GET %s = %d: reading body: %v", route, resp.StatusCode, err)
		return nil, nil, false
	}
	if c.statuses[route] == nil {
		c.statuses[route] = map[int]int{}
	}
	c.statuses[route][resp.StatusCode]++
	c.latencies = append(c.latencies, elapsed)
	if strings.HasPrefix(route, "/home") {
		c.homeLatencies = append(c.homeLatencies, elapsed)
	}
	if resp.StatusCode == http.StatusInternalServerError {
		c.fail("GET %s = 500; want no 500", route)
	}
	return resp, body, true
}

// finalCheck runs after the load with faults off: a session with a live
// grant must still show its inbox, every page of it through the Older
// links, unread messages in all; one whose grant was revoked (and that has
// not signed in since) must be sent to sign in again.
func (c *client) finalCheck(unread int) {
	resp, body, ok := c.getInbox("/home", "/home")
	switch {
	case !ok:
		return
	case c.revokedAccount && !c.signedInAgain && resp.StatusCode == http.StatusOK:
		// Every token from before the revocation is dead, so this one came
		// from a grant made after it; the report checks there was one.
		c.renewedAfterRevocation = true
	case c.revokedAccount && !c.signedInAgain:
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			c.fail("after the run, GET /home for the revoked account = %d to %q; want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
			return
		}
		c.sentToSignIn = true
		return
	}
	shown := 0
	for route, pages := "/home", 0; ; route, pages = "/home?page", pages+1 {
		if resp.StatusCode != http.StatusOK {
			c.fail("after the run, with faults off, GET %s = %d; want 200", route, resp.StatusCode)
			return
		}
		shown += len(messageItem.FindAll(body, -1))
		m := olderLink.FindSubmatch(body)
		if m == nil || pages > unread {
			break
		}
		// The next page is an Older one, counted under its own route.
		if resp, body, ok = c.getInbox("/home?page", html.UnescapeString(string(m[1]))); !ok {
			return
		}
	}
	if shown != unread {
		c.fail("after the run, with faults off, the inbox and its Older pages show %d messages; want all %d unread", shown, unread)
	}
}

func (c *client) fail(format string, args ...any) {
	c.failureCount++
	if len(c.failures) < maxFailures {
		c.failures = append(c.failures, fmt.Sprintf(format, args...))
	}
}
