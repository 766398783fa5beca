package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"gmailoauth/internal/sandbox"
)

// liveID stands, in a fuzzed consent form, for the consent_id of the page
// just shown: random, it could not be found by the fuzzer.
const liveID = "{id}"

// FuzzConsentForm posts any body as the consent form, for a page just
// shown, and checks the sandbox against a model of the form its page
// produces: it grants (a 303 with a code) exactly when the form has one
// consent_id, the live one, one decision, allow, one account, a seeded
// address, and scopes that were all asked for, at least one; a granted
// code carries only those scopes. Anything else is refused or denied,
// never a grant and never a 5xx.
func FuzzConsentForm(f *testing.F) {
	for _, seed := range []string{
		"consent_id={id}&account=hanako.yamada%40example.jp&scope=openid&scope=email&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fgmail.readonly&decision=allow",
		"consent_id={id}&account=alex%40example.com&scope=openid&decision=allow",
		"consent_id={id}&account=HANAKO.YAMADA%40EXAMPLE.JP&scope=email&decision=allow",
		"consent_id={id}&account=hanako.yamada%40example.jp&decision=allow",
		"consent_id={id}&account=hanako.yamada%40example.jp&scope=openid&decision=deny",
		"consent_id={id}&account=hanako.yamada%40example.jp&scope=openid&decision=allow&decision=deny",
		"consent_id={id}&consent_id=other&account=hanako.yamada%40example.jp&scope=openid&decision=allow",
		"consent_id={id}&account=hanako.yamada%40example.jp&account=nobody%40example.com&scope=openid&decision=allow",
		"consent_id={id}&account=hanako.yamada%40example.jp&scope=https%3A%2F%2Fmail.google.com%2F&decision=allow",
		"consent_id={id}&account=nobody%40example.com&scope=openid&decision=allow",
		"consent_id=forged&account=hanako.yamada%40example.jp&scope=openid&decision=allow",
		"consent_id={id}&account=hanako.yamada%40example.jp&scope=openid&decision=Allow",
		"consent_id={id}%00&account=hanako.yamada%40example.jp&scope=openid&decision=allow",
		"consent_id={id}&account=hanako.yamada%40example.jp&scope=%zz&decision=allow",
		"consent_id={id};account=hanako.yamada%40example.jp&decision=allow",
		"",
	} {
		f.Add(seed)
	}
	sb, err := sandbox.New(sandbox.Options{ClientID: clientID, ClientSecret: clientSecret, RedirectURIs: []string{redirectURI}, Strict: true})
	if err != nil {
		f.Fatal(err)
	}
	params := authParams()
	var asked []string // in full, as the sandbox records them
	for _, scope := range strings.Fields(params.Get("scope")) {
		asked = append(asked, fullScope(scope))
	}
	f.Fuzz(func(t *testing.T, form string) {
		// A page for the request, with no Google session and no
		// login_hint: always the full consent screen, never the chooser.
		page := httptest.NewRecorder()
		sb.ServeHTTP(page, httptest.NewRequest(http.MethodGet, sandbox.AuthPath+"?"+params.Encode(), nil))
		match := consentIDPattern.FindStringSubmatch(page.Body.String())
		if page.Code != http.StatusOK || match == nil {
			t.Fatalf("GET the consent page = %d, with no consent_id:\n%s", page.Code, page.Body)
		}
		id := match[1]
		body := strings.ReplaceAll(form, liveID, url.QueryEscape(id))
		post := httptest.NewRequest(http.MethodPost, sandbox.AuthPath, strings.NewReader(body))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		answer := httptest.NewRecorder()
		sb.ServeHTTP(answer, post)

		if answer.Code >= 500 {
			t.Fatalf("POST %q = %d; want no server error\n%s", body, answer.Code, answer.Body)
		}
		var back url.Values
		if location, err := url.Parse(answer.Header().Get("Location")); err == nil {
			back = location.Query()
		}
		granted := answer.Code == http.StatusSeeOther && back.Get("code") != ""
		if want := grantable(body, id, sb.Accounts(), asked); granted != want {
			t.Fatalf("POST %q = %d, Location %q: granted %v; the page's form model says %v", body, answer.Code, answer.Header().Get("Location"), granted, want)
		}
		if granted {
			for _, scope := range strings.Fields(back.Get("scope")) {
				if !slices.Contains(asked, scope) {
					t.Fatalf("POST %q granted %q, which was not asked for (%q)", body, scope, asked)
				}
			}
		}
	})
}

// fullScope is scope by its full name: Google takes "email" and "profile"
// for its identity scopes.
func fullScope(scope string) string {
	switch scope {
	case "email":
		return sandbox.EmailScope
	case "profile":
		return sandbox.ProfileScope
	}
	return scope
}

// grantable is the model: whether body is a consent form that allows the
// request with the consent ID id, asked being the request's scopes in full.
func grantable(body, id string, accounts, asked []string) bool {
	form, err := url.ParseQuery(body)
	if err != nil {
		return false
	}
	one := func(name string) (string, bool) {
		values := form[name]
		return strings.Join(values, ""), len(values) == 1
	}
	consentID, ok1 := one("consent_id")
	decision, ok2 := one("decision")
	account, ok3 := one("account")
	if !ok1 || !ok2 || !ok3 || consentID != id || decision != "allow" || len(form["scope"]) == 0 {
		return false
	}
	if !slices.ContainsFunc(accounts, func(a string) bool { return strings.EqualFold(a, account) }) {
		return false
	}
	for _, scope := range form["scope"] {
		if !slices.Contains(asked, fullScope(scope)) {
			return false
		}
	}
	return true
}
