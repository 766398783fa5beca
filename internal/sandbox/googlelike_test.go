package sandbox_test

import (
	"bytes"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gmailoauth/internal/sandbox"
)

// TestGoogleLikeAndStrictAuthorization walks what Google accepts at the
// authorization endpoint and the token endpoint through both modes: the
// default answers as Google does, strict mode refuses what this project's
// app must never send.
func TestGoogleLikeAndStrictAuthorization(t *testing.T) {
	without := func(names ...string) func(url.Values) {
		return func(p url.Values) {
			for _, name := range names {
				p.Del(name)
			}
		}
	}
	tests := []struct {
		name  string
		edit  func(url.Values) // of authParams
		token func(url.Values) // of the token request, after exchangeForm
		// wantGoogle and wantStrict are the status of the token request,
		// or of the authorization request when it is refused (400).
		wantGoogle, wantStrict int
	}{
		{name: "PKCE with S256", wantGoogle: http.StatusOK, wantStrict: http.StatusOK},
		{name: "no PKCE, as Google's web-server quickstarts", edit: without("code_challenge", "code_challenge_method"),
			token: without("code_verifier"), wantGoogle: http.StatusOK, wantStrict: http.StatusBadRequest},
		// A verifier for a code issued without a challenge is a PKCE
		// downgrade (RFC 9700 §2.1.1): Google answers invalid_grant.
		{name: "no PKCE, a verifier sent anyway", edit: without("code_challenge", "code_challenge_method"),
			wantGoogle: http.StatusBadRequest, wantStrict: http.StatusBadRequest},
		{name: "PKCE plain", edit: func(p url.Values) { p.Set("code_challenge", verifier); p.Set("code_challenge_method", "plain") },
			wantGoogle: http.StatusOK, wantStrict: http.StatusBadRequest},
		{name: "PKCE plain by default", edit: func(p url.Values) { p.Set("code_challenge", verifier); p.Del("code_challenge_method") },
			wantGoogle: http.StatusOK, wantStrict: http.StatusBadRequest},
		{name: "PKCE with the wrong verifier", token: func(p url.Values) { p.Set("code_verifier", strings.Repeat("x", 50)) },
			wantGoogle: http.StatusBadRequest, wantStrict: http.StatusBadRequest},
		{name: "PKCE without the verifier", token: without("code_verifier"),
			wantGoogle: http.StatusBadRequest, wantStrict: http.StatusBadRequest},
		{name: "gmail.modify", edit: func(p url.Values) { p.Set("scope", sandbox.GmailModifyScope) },
			wantGoogle: http.StatusOK, wantStrict: http.StatusBadRequest},
		{name: "a repeated parameter", edit: func(p url.Values) { p.Add("state", "another") },
			wantGoogle: http.StatusOK, wantStrict: http.StatusBadRequest},
		{name: "the secret in the token request's URL", token: func(p url.Values) { p.Set("in-url", "client_secret") },
			wantGoogle: http.StatusOK, wantStrict: http.StatusBadRequest},
		{name: "HTTP Basic and the same secret in the body", token: func(p url.Values) { p.Set("basic", "yes") },
			wantGoogle: http.StatusOK, wantStrict: http.StatusBadRequest},
	}
	for _, tt := range tests {
		for _, mode := range []struct {
			name string
			edit func(*sandbox.Options)
			want int
		}{
			{name: "Google-like", edit: googleLike, want: tt.wantGoogle},
			{name: "strict", edit: func(*sandbox.Options) {}, want: tt.wantStrict},
		} {
			t.Run(tt.name+"/"+mode.name, func(t *testing.T) {
				f := newFixture(t, mode.edit)
				params := authParams()
				if tt.edit != nil {
					tt.edit(params)
				}
				if page := f.authorize(t, params); page.status != http.StatusOK {
					if page.status != mode.want {
						t.Fatalf("GET %s = %d; want %d\n%s", sandbox.AuthPath, page.status, mode.want, page.body)
					}
					return
				}
				form := exchangeForm(f.code(t, params, hanako))
				if tt.token != nil {
					tt.token(form)
				}
				req := newTokenRequest(t, f, form)
				if got := f.do(t, req).status; got != mode.want {
					t.Errorf("POST %s = %d; want %d", sandbox.TokenPath, got, mode.want)
				}
			})
		}
	}
}

// newTokenRequest is a token request for form, where the pseudo-fields
// "in-url" (a field to move to the URL) and "basic" (authenticate with
// HTTP Basic too) change how it is sent.
func newTokenRequest(t *testing.T, f *fixture, form url.Values) *http.Request {
	t.Helper()
	query := url.Values{}
	if name := form.Get("in-url"); name != "" {
		query.Set(name, form.Get(name))
		form.Del(name)
		form.Del("in-url")
	}
	basic := form.Get("basic") != ""
	form.Del("basic")
	target := f.url + sandbox.TokenPath
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	}
	return req
}

// TestImplicitFlow: response_type=token, which Google still serves to
// browser apps, answers with the token in the fragment; strict mode
// refuses it.
func TestImplicitFlow(t *testing.T) {
	f := newFixture(t, googleLike)
	params := authParams()
	params.Set("response_type", "token")
	params.Del("access_type")
	id := f.consentID(t, params)
	resp := f.postForm(t, sandbox.AuthPath, allowForm(id, hanako, strings.Fields(params.Get("scope"))...))
	wantStatus(t, resp, http.StatusSeeOther)
	back := resp.location(t)
	if back.RawQuery != "" {
		t.Errorf("implicit redirect has a query %q; want the token in the fragment only", back.RawQuery)
	}
	fragment, err := url.ParseQuery(back.Fragment)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"token_type": "Bearer", "expires_in": "3599", "state": "state-123"} {
		if got := fragment.Get(name); got != want {
			t.Errorf("fragment %s = %q; want %q", name, got, want)
		}
	}
	if got := f.gmail(t, fragment.Get("access_token"), "/gmail/v1/users/me/profile").status; got != http.StatusOK {
		t.Errorf("the implicit flow's access token: GET profile = %d; want 200", got)
	}
	if fragment.Has("refresh_token") {
		t.Error("the implicit flow gave a refresh token")
	}

	// Errors go back in the fragment too, where a page script looks.
	deny := allowForm(f.consentID(t, params), hanako)
	deny.Set("decision", "deny")
	if back := f.postForm(t, sandbox.AuthPath, deny).location(t); back.RawQuery != "" || !strings.Contains(back.Fragment, "error=access_denied") {
		t.Errorf("implicit flow, consent denied: back to %s; want error=access_denied in the fragment only", back)
	}
	silent := url.Values(maps.Clone(params))
	silent.Set("prompt", "none")
	if back := newFixture(t, googleLike).authorize(t, silent).location(t); back.RawQuery != "" || !strings.Contains(back.Fragment, "error=login_required") {
		t.Errorf("implicit flow, prompt=none not signed in: back to %s; want error=login_required in the fragment only", back)
	}

	strict := newFixture(t)
	if got := strict.authorize(t, params).status; got != http.StatusBadRequest {
		t.Errorf("strict: response_type=token = %d; want 400", got)
	}
}

// TestAutoApprove: a sandbox run with AutoApprove answers an authorization
// request at once with a code for that account, no page; prompt=none still
// needs the browser to be signed in to the sandbox's Google.
func TestAutoApprove(t *testing.T) {
	f := newFixture(t, googleLike, func(o *sandbox.Options) { o.AutoApprove = "ALEX@example.com" })
	resp := f.authorize(t, authParams())
	wantStatus(t, resp, http.StatusFound)
	back := resp.location(t)
	if back.Query().Get("code") == "" || back.Query().Get("state") != "state-123" {
		t.Fatalf("auto-approved redirect = %s; want a code and the state", back)
	}
	tokens := f.postForm(t, sandbox.TokenPath, exchangeForm(back.Query().Get("code")))
	wantStatus(t, tokens, http.StatusOK)
	var issued tokenResponse
	tokens.decode(t, &issued)
	profile := f.gmail(t, issued.AccessToken, "/gmail/v1/users/me/profile")
	if !strings.Contains(string(profile.body), alex) {
		t.Errorf("the auto-approved token's profile = %s; want %s's", profile.body, alex)
	}

	silent := authParams()
	silent.Set("prompt", "none")
	if got := f.authorize(t, silent).location(t).Query().Get("error"); got != "login_required" {
		t.Errorf("prompt=none from a browser not signed in: error = %q; want login_required", got)
	}

	if _, err := sandbox.New(sandbox.Options{ClientID: "c", ClientSecret: "s", RedirectURIs: []string{redirectURI}, AutoApprove: "nobody@example.com"}); err == nil {
		t.Error("New with AutoApprove of an account that is not seeded: err = nil; want an error")
	}
}

// TestRefreshTokensPerAccountAndClientAreCapped: each offline grant (here
// from IssueToken; a prompt=consent sign-in makes one the same way) holds
// a refresh token; as at Google, the account keeps the newest 100 for a
// client, and the oldest stop working.
func TestRefreshTokensPerAccountAndClientAreCapped(t *testing.T) {
	f := newFixture(t)
	var tokens []sandbox.Token
	for range 150 {
		tokens = append(tokens, f.sandbox.IssueToken(hanako))
	}
	refresh := func(token string) int {
		return f.postForm(t, sandbox.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token},
			"client_id": {clientID}, "client_secret": {clientSecret}}).status
	}
	if got := refresh(tokens[49].RefreshToken); got != http.StatusBadRequest {
		t.Errorf("refresh with the 50th of 150 refresh tokens = %d; want 400, dropped for newer ones", got)
	}
	if got := refresh(tokens[50].RefreshToken); got != http.StatusOK {
		t.Errorf("refresh with the 51st of 150 refresh tokens = %d; want 200, one of the newest 100", got)
	}
	if got := refresh(tokens[149].RefreshToken); got != http.StatusOK {
		t.Errorf("refresh with the newest refresh token = %d; want 200", got)
	}
}

// TestAccessTokensPerAccountAndClientAreCapped: however many access
// tokens a client mints, by refreshing or by the implicit flow, an account
// keeps the newest 1,000 for it, so no stranger can fill the sandbox's
// memory with them.
func TestAccessTokensPerAccountAndClientAreCapped(t *testing.T) {
	f := newFixture(t)
	first := f.sandbox.IssueToken(hanako)
	var newest tokenResponse
	for range 1000 {
		resp := f.postForm(t, sandbox.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken},
			"client_id": {clientID}, "client_secret": {clientSecret}})
		wantStatus(t, resp, http.StatusOK)
		resp.decode(t, &newest)
	}
	if got := f.gmail(t, first.AccessToken, "/gmail/v1/users/me/profile").status; got != http.StatusUnauthorized {
		t.Errorf("profile with the first of 1,001 access tokens = %d; want 401, dropped for newer ones", got)
	}
	if got := f.gmail(t, newest.AccessToken, "/gmail/v1/users/me/profile").status; got != http.StatusOK {
		t.Errorf("profile with the newest access token = %d; want 200", got)
	}
}

// TestGmailTokenInTheURL: Google takes the access token in the
// access_token query parameter as well as in the Authorization header;
// strict mode takes it only in the header, since a URL ends up in logs.
func TestGmailTokenInTheURL(t *testing.T) {
	for _, mode := range []struct {
		name string
		edit func(*sandbox.Options)
		want int
	}{
		{name: "Google-like", edit: googleLike, want: http.StatusOK},
		{name: "strict", edit: func(*sandbox.Options) {}, want: http.StatusUnauthorized},
	} {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t, mode.edit)
			token := f.sandbox.IssueToken(hanako).AccessToken
			path := "/gmail/v1/users/me/profile?" + url.Values{"access_token": {token}}.Encode()
			resp := f.get(t, path)
			if resp.status != mode.want {
				t.Fatalf("GET /gmail/v1/users/me/profile?access_token=… = %d; want %d\n%s", resp.status, mode.want, resp.body)
			}
			if mode.want == http.StatusOK && !bytes.Contains(resp.body, []byte(hanako)) {
				t.Errorf("profile = %s; want %s's", resp.body, hanako)
			}
		})
	}
}

// TestUpperCaseMessageIDs: an ID is a number in hex, so Google-like mode
// finds the message whatever the case of its digits; strict mode refuses
// upper case, which only a client that mangles IDs would send.
func TestUpperCaseMessageIDs(t *testing.T) {
	for _, mode := range []struct {
		name string
		edit func(*sandbox.Options)
		want int
	}{
		{name: "Google-like", edit: googleLike, want: http.StatusOK},
		{name: "strict", edit: func(*sandbox.Options) {}, want: http.StatusBadRequest},
	} {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t, mode.edit)
			token := f.sandbox.IssueToken(hanako).AccessToken
			m := f.findMessage(t, token, subjectIs("Lunch tomorrow?"))
			for _, path := range []string{listPath + "/" + strings.ToUpper(m.ID), "/gmail/v1/users/me/threads/" + strings.ToUpper(m.ThreadID)} {
				resp := f.gmail(t, token, path)
				if resp.status != mode.want {
					t.Errorf("GET %s = %d; want %d\n%s", path, resp.status, mode.want, resp.body)
				}
				if mode.want == http.StatusOK && !bytes.Contains(resp.body, []byte(`"`+m.ID+`"`)) {
					t.Errorf("GET %s does not answer with the ID in lower case, %s:\n%s", path, m.ID, resp.body)
				}
			}
		})
	}
}
