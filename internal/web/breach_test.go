package web_test

import (
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
