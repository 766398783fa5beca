package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/sandbox"
)

// TestCompressionRevealsNoSecret is a compression oracle, run as a BREACH
// attacker runs one: the attacker makes the signed-in browser ask for pages
// whose URL holds a guess, and reads each gzipped response's size off the
// wire. Were the guess compressed together with a secret on the page, the
// guess that matches the secret would come out shorter than the others.
// Here the right guess must come out no shorter than any of the wrong ones,
// which are the same letters in other orders, so that only a match with the
// secret could tell them apart.
func TestCompressionRevealsNoSecret(t *testing.T) {
	account, _, _ := strings.Cut(hanako, "@") // hanako.yamada: a valid trail of two page tokens
	tests := []struct {
		name string
		// path is the page asked for with guess in its URL; older is the
		// link to the inbox's second page.
		path      func(older, guess string) string
		secret    string // "" for a word of a subject on the inbox's second page
		failedRow bool   // a message of the second page fails on every view
	}{
		{name: "inbox, the account", secret: account,
			path: func(older, guess string) string { return older + "&trail=" + guess }},
		{name: "inbox, a subject",
			path: func(older, guess string) string { return older + "&trail=" + guess }},
		{name: "inbox with a failed row, the account", secret: account, failedRow: true,
			path: func(older, guess string) string { return older + "&trail=" + guess }},
		{name: "inbox with a failed row, a subject", failedRow: true,
			path: func(older, guess string) string { return older + "&trail=" + guess }},
		{name: "stale inbox page, the account", secret: account,
			path: func(_, guess string) string { return "/home?page=forged&trail=" + guess }},
		{name: "start page, the account", secret: account,
			path: func(_, guess string) string { return "/?next=" + url.QueryEscape(guess) }},
		{name: "not found, the account", secret: account,
			path: func(_, guess string) string { return "/" + guess + "?" + guess }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, app := start(t, apptest.Options{})
			b := apptest.NewBrowser(t)
			b.SignIn(t, app, hanako)
			older := olderLink(t, b.Get(t, app.URL+"/home"))
			// With failedRow, the first view of the second page fails one
			// message, and each view after it asks for that message alone
			// again, and fails it again.
			failRow := func() {
				if tt.failedRow {
					env.Sandbox.InjectFaults(sandbox.Fault{Call: "get", Status: 404})
				}
			}
			failRow()
			second := b.Get(t, app.URL+older) // fetches the second page's messages and keeps them
			secret := tt.secret
			if secret == "" {
				secret = subjectWord(t, second)
			}
			size := func(guess string) int {
				t.Helper()
				failRow()
				resp := getWith(t, b, app.URL+tt.path(older, guess), "gzip")
				if resp.Header.Get("Content-Encoding") != "gzip" {
					t.Fatalf("GET %s = %d, not gzipped; the oracle needs gzip", resp.Request.URL, resp.StatusCode)
				}
				if failed := len(apptest.FindAll(apptest.Parse(t, gunzip(t, resp.Body)), "li.failed")); tt.failedRow && failed != 1 {
					t.Fatalf("GET %s: %d failed rows; want the one the fault makes", resp.Request.URL, failed)
				}
				return len(resp.Body)
			}
			right := size(secret)
			var wrong []int
			for _, guess := range reorderings(secret) {
				wrong = append(wrong, size(guess))
			}
			if shortest := slices.Min(wrong); right < shortest {
				t.Errorf("gzipped size with the right guess %q = %d bytes; with the same letters in other orders %v: the right guess is told apart",
					secret, right, wrong)
			}
		})
	}
}

// olderLink is the inbox page's link to the next, older page.
func olderLink(t *testing.T, inbox *apptest.Response) string {
	t.Helper()
	wantStatus(t, inbox, http.StatusOK)
	for _, a := range apptest.FindAll(apptest.Parse(t, inbox.Body), "a") {
		if apptest.Attr(a, "rel") == "next" {
			return apptest.Attr(a, "href")
		}
	}
	t.Fatalf("GET %s: no link to an older page; the test needs two pages of unread mail", inbox.Request.URL)
	return ""
}

// subjectWord is a word of seven letters or more, lower-cased, from a
// subject on the inbox page.
func subjectWord(t *testing.T, inbox *apptest.Response) string {
	t.Helper()
	wantStatus(t, inbox, http.StatusOK)
	for _, h2 := range apptest.FindAll(apptest.Parse(t, inbox.Body), "h2.subject") {
		if word := regexp.MustCompile(`[A-Za-z]{7,}`).FindString(apptest.Text(h2)); word != "" {
			return strings.ToLower(word)
		}
	}
	t.Fatalf("GET %s: no subject with a word of seven letters or more to guess", inbox.Request.URL)
	return ""
}

// reorderings returns five guesses made of the letters of secret's
// dot-separated words in other orders, each sharing no run of three
// letters with secret: guesses as long, with letters as many and as often
// repeated (so that they cost the same to encode on their own), that could
// come out shorter than another only by matching the secret.
func reorderings(secret string) []string {
	words := strings.Split(secret, ".")
	var out []string
	for len(out) < 5 {
		for i := range words {
			if next, ok := nextPermutation(words[i]); ok {
				words[i] = next
				break
			}
		}
		guess := strings.Join(words, ".")
		if guess == secret {
			break // every order tried
		}
		shares := false
		for j := 0; j+3 <= len(guess); j++ {
			shares = shares || strings.Contains(secret, guess[j:j+3])
		}
		if !shares {
			out = append(out, guess)
		}
	}
	return out
}

// nextPermutation returns the letters of w in the next order after w's,
// lexicographically, and false after the last order (when it returns the
// first).
func nextPermutation(w string) (string, bool) {
	b := []byte(w)
	i := len(b) - 2
	for i >= 0 && b[i] >= b[i+1] {
		i--
	}
	if i < 0 {
		slices.Sort(b)
		return string(b), false
	}
	j := len(b) - 1
	for b[j] <= b[i] {
		j--
	}
	b[i], b[j] = b[j], b[i]
	slices.Reverse(b[i+1:])
	return string(b), true
}

// TestMailIsNoOracleForAnotherSite is a compression oracle on the mail, run
// as the attacker of issue 24 ran it: they mail the person a guess at a
// code that is in another of the person's mails, make the signed-in
// browser load the inbox from a page of their own, and read each gzipped
// response's size off the wire. Rows share one compressor, so on a page
// with both mails the right guess would come out shorter. A load another
// site starts carries the session cookie (Lax) but not the site cookie
// (Strict), and must get no mail at all: the same answer whatever the
// guess, and no call to Gmail.
func TestMailIsNoOracleForAnotherSite(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	const secret = "739164"
	env.Sandbox.Deliver(hanako, sandbox.Delivery{From: "Bank <no-reply@bank.example>", Subject: "Your sign-in code", Text: "Your sign-in code is " + secret + "."})
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)

	appURL, _ := url.Parse(app.URL)
	var session *http.Cookie
	for _, c := range b.Jar.Cookies(appURL) {
		if c.Name == "gmail_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie after the sign-in")
	}
	size := func(guess string) int {
		t.Helper()
		env.Sandbox.Deliver(hanako, sandbox.Delivery{From: "Attacker <a@attacker.example>", Subject: "Hello", Text: "Your sign-in code is " + guess + "."})
		calls := env.Sandbox.Stats().GmailCalls
		req, err := http.NewRequest(http.MethodGet, app.URL+"/home", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(session) // as a browser sends it on a navigation another site started
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("GET /home from another site = %d to %q; want 303 to / and no mail", resp.StatusCode, resp.Header.Get("Location"))
		}
		if got := env.Sandbox.Stats().GmailCalls - calls; got != 0 {
			t.Errorf("GET /home from another site made %d Gmail calls; want 0", got)
		}
		return len(body)
	}
	right := size(secret)
	var wrong []int
	for _, guess := range []string{"913746", "641397", "397461", "164739", "476193"} {
		wrong = append(wrong, size(guess))
	}
	if shortest := slices.Min(wrong); right < shortest {
		t.Errorf("size with the right guess %s = %d bytes; with wrong ones %v: the right guess is told apart", secret, right, wrong)
	}
}

// TestSignInFromGoogleContinuesOnTheAppsOwnPage: Google's redirect to the
// callback is a request another site started, which the browser says in
// Sec-Fetch-Site, and so would be a redirect from it to the inbox: the
// callback answers with the start page, which sets the site cookie and
// moves on to the inbox by a refresh of its own, and shows no mail itself.
func TestSignInFromGoogleContinuesOnTheAppsOwnPage(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	consent := b.StartSignIn(t, app)
	back := b.Decide(t, consent, "allow").Location(t)
	req, err := http.NewRequest(http.MethodGet, back.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp := b.Do(t, req)
	wantStatus(t, resp, http.StatusOK)
	doc := apptest.Parse(t, resp.Body)
	var refresh string
	for _, meta := range apptest.FindAll(doc, "meta") {
		if strings.EqualFold(apptest.Attr(meta, "http-equiv"), "refresh") {
			refresh = apptest.Attr(meta, "content")
		}
	}
	if refresh != "0; url=/home" {
		t.Errorf("GET /callback from Google: refresh = %q; want \"0; url=/home\"", refresh)
	}
	if n := len(apptest.FindAll(doc, "li.message")); n != 0 {
		t.Errorf("GET /callback from Google shows %d messages; want none on this page", n)
	}
	var site *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "gmail_site" {
			site = c
		}
	}
	if site == nil || site.SameSite != http.SameSiteStrictMode || !site.HttpOnly {
		t.Errorf("GET /callback from Google: site cookie %v; want one, SameSite=Strict and HttpOnly", site)
	}
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
}
