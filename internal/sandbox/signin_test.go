package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// signInToGoogle signs the fixture's browser in to the sandbox's Google
// session as each of accounts, in order, through the sign-in page's form.
func (f *fixture) signInToGoogle(t *testing.T, accounts ...string) {
	t.Helper()
	if f.client.Jar == nil {
		f.keepGoogleSession(t)
	}
	for _, account := range accounts {
		resp := f.postForm(t, "/ServiceLogin", url.Values{"account": {account}, "continue": {"/"}})
		if resp.status != http.StatusSeeOther || resp.header.Get("Location") != "/" {
			t.Fatalf("sign in as %s = %d to %q; want 303 to /\n%s", account, resp.status, resp.header.Get("Location"), resp.body)
		}
	}
}

// TestMessagePageNeedsTheGoogleSession: the message page shows mail only to
// a browser signed in to the account, as Gmail does; any other browser is
// sent to the sign-in page (Gmail sends it to accounts.google.com's
// ServiceLogin with the page in continue), and comes back once signed in.
func TestMessagePageNeedsTheGoogleSession(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	id := f.findMessage(t, token, subjectIs("ご無沙汰しております")).ID
	page := "/mail/u/" + hanako + "/message/" + id

	resp := f.get(t, page)
	if resp.status != http.StatusFound || strings.Contains(string(resp.body), "ご無沙汰しております") {
		t.Fatalf("GET %s with no Google session = %d; want 302 to sign in, and no mail\n%s", page, resp.status, resp.body)
	}
	signIn := resp.location(t)
	if signIn.Path != "/ServiceLogin" || signIn.Query().Get("continue") != page {
		t.Fatalf("GET %s with no Google session went to %s; want /ServiceLogin?continue=%s", page, signIn, page)
	}
	chooser := f.get(t, signIn.String())
	wantStatus(t, chooser, http.StatusOK)
	if text := pageText(chooser.body); !strings.Contains(text, hanako) || !strings.Contains(text, alex) {
		t.Errorf("GET %s shows no account to choose:\n%s", signIn, text)
	}

	f.keepGoogleSession(t)
	resp = f.postForm(t, "/ServiceLogin", url.Values{"account": {hanako}, "continue": {page}})
	if resp.status != http.StatusSeeOther || resp.header.Get("Location") != page {
		t.Fatalf("POST the sign-in form = %d to %q; want 303 back to %s", resp.status, resp.header.Get("Location"), page)
	}
	for _, path := range []string{page, "/mail/u/0/message/" + id} {
		resp = f.get(t, path)
		wantStatus(t, resp, http.StatusOK)
		if !strings.Contains(string(resp.body), "ご無沙汰しております") {
			t.Errorf("GET %s signed in as %s shows no message", path, hanako)
		}
	}
	// Signed in to hanako alone: alex's mail, and a second account index,
	// still need signing in.
	for _, path := range []string{"/mail/u/" + alex + "/message/" + id, "/mail/u/1/message/" + id, "/mail/u/nobody@example.com/message/" + id} {
		if resp := f.get(t, path); resp.status != http.StatusFound || resp.location(t).Path != "/ServiceLogin" {
			t.Errorf("GET %s signed in as %s alone = %d; want 302 to /ServiceLogin", path, hanako, resp.status)
		}
	}
}

// TestSignInFormIsChecked: the sign-in page goes on only to a page of the
// sandbox (no open redirect), only for one seeded account, and only from
// the sandbox's own pages.
func TestSignInFormIsChecked(t *testing.T) {
	f := newFixture(t)
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example/", ""} {
		if got := f.get(t, "/ServiceLogin?continue="+url.QueryEscape(next)).status; got != http.StatusBadRequest {
			t.Errorf("GET /ServiceLogin?continue=%s = %d; want 400", next, got)
		}
		if got := f.postForm(t, "/ServiceLogin", url.Values{"account": {hanako}, "continue": {next}}).status; got != http.StatusBadRequest {
			t.Errorf("POST /ServiceLogin continue=%s = %d; want 400", next, got)
		}
	}
	for _, form := range []url.Values{
		{"account": {"nobody@example.com"}, "continue": {"/"}},
		{"account": {hanako, alex}, "continue": {"/"}},
		{"continue": {"/"}},
	} {
		if resp := f.postForm(t, "/ServiceLogin", form); resp.status != http.StatusBadRequest || resp.header.Get("Set-Cookie") != "" {
			t.Errorf("POST /ServiceLogin %s = %d, Set-Cookie %q; want 400 and no session", form.Encode(), resp.status, resp.header.Get("Set-Cookie"))
		}
	}
	req, err := http.NewRequest(http.MethodPost, f.url+"/ServiceLogin", strings.NewReader(url.Values{"account": {hanako}, "continue": {"/"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp := f.do(t, req); resp.status != http.StatusForbidden {
		t.Errorf("POST /ServiceLogin from another site = %d; want 403", resp.status)
	}
}
