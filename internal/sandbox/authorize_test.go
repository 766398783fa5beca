package sandbox_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

func TestAuthorizeShowsGooglesErrorPageForBadRequests(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		edit       func(url.Values)
		wantStatus int
		wantCode   string
	}{
		{name: "missing client_id", edit: func(p url.Values) { p.Del("client_id") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "unknown client_id", edit: func(p url.Values) { p.Set("client_id", "someone-else.apps.googleusercontent.com") }, wantStatus: http.StatusUnauthorized, wantCode: "invalid_client"},
		{name: "repeated client_id", edit: func(p url.Values) { p.Add("client_id", clientID) }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "missing redirect_uri", edit: func(p url.Values) { p.Del("redirect_uri") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "unregistered redirect_uri", edit: func(p url.Values) { p.Set("redirect_uri", "http://127.0.0.1:8081/callback") }, wantStatus: http.StatusBadRequest, wantCode: "redirect_uri_mismatch"},
		{name: "redirect_uri with trailing slash", edit: func(p url.Values) { p.Set("redirect_uri", redirectURI+"/") }, wantStatus: http.StatusBadRequest, wantCode: "redirect_uri_mismatch"},
		{name: "redirect_uri in another case", edit: func(p url.Values) { p.Set("redirect_uri", strings.ToUpper(redirectURI)) }, wantStatus: http.StatusBadRequest, wantCode: "redirect_uri_mismatch"},
		{name: "redirect_uri without its query", edit: func(p url.Values) { p.Set("redirect_uri", "https://app.example.com/oauth/callback") }, wantStatus: http.StatusBadRequest, wantCode: "redirect_uri_mismatch"},
		{name: "repeated redirect_uri", edit: func(p url.Values) { p.Add("redirect_uri", redirectURI) }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "response_type token", edit: func(p url.Values) { p.Set("response_type", "token") }, wantStatus: http.StatusBadRequest, wantCode: "unsupported_response_type"},
		{name: "missing response_type", edit: func(p url.Values) { p.Del("response_type") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "missing scope", edit: func(p url.Values) { p.Del("scope") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "blank scope", edit: func(p url.Values) { p.Set("scope", "  ") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "full mail scope", edit: func(p url.Values) { p.Set("scope", "https://mail.google.com/") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_scope"},
		{name: "unknown scope next to Gmail", edit: func(p url.Values) { p.Set("scope", sandbox.GmailScope+" https://www.googleapis.com/auth/drive") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_scope"},
		{name: "repeated scope", edit: func(p url.Values) { p.Add("scope", "email") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "unknown code_challenge_method", edit: func(p url.Values) { p.Set("code_challenge_method", "S512") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "lower-case method", edit: func(p url.Values) { p.Set("code_challenge_method", "s256") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		// Stricter than Google, which accepts these: the sandbox insists on PKCE S256.
		{name: "missing code_challenge", edit: func(p url.Values) { p.Del("code_challenge") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "missing code_challenge_method", edit: func(p url.Values) { p.Del("code_challenge_method") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "plain method", edit: func(p url.Values) { p.Set("code_challenge_method", "plain") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "short challenge", edit: func(p url.Values) { p.Set("code_challenge", challenge[:42]) }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "long challenge", edit: func(p url.Values) { p.Set("code_challenge", challenge+"A") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "padded challenge", edit: func(p url.Values) { p.Set("code_challenge", challenge[:42]+"=") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "standard base64 challenge", edit: func(p url.Values) { p.Set("code_challenge", "+"+challenge[1:]) }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "bad access_type", edit: func(p url.Values) { p.Set("access_type", "forever") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "unknown prompt", edit: func(p url.Values) { p.Set("prompt", "always") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "prompt none with consent", edit: func(p url.Values) { p.Set("prompt", "none consent") }, wantStatus: http.StatusBadRequest, wantCode: "invalid_request"},
		{name: "overlong state", edit: func(p url.Values) { p.Set("state", strings.Repeat("s", 9000)) }, wantStatus: http.StatusRequestURITooLong, wantCode: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := authParams()
			tt.edit(params)
			resp := f.authorize(t, params)
			if resp.status != tt.wantStatus {
				t.Fatalf("GET %s = %d; want %d\n%s", sandbox.AuthPath, resp.status, tt.wantStatus, resp.body)
			}
			if loc := resp.header.Get("Location"); loc != "" {
				t.Errorf("Location = %q; want Google's error page, not a redirect to the app", loc)
			}
			if got := resp.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q; want an HTML page", got)
			}
			want := fmt.Sprintf("Error %d: %s", tt.wantStatus, tt.wantCode)
			if !strings.Contains(string(resp.body), want) {
				t.Errorf("page does not say %q:\n%s", want, resp.body)
			}
		})
	}
}

func TestAuthorizeRedirectsWhatTheFlowProducesToTheApp(t *testing.T) {
	tests := []struct {
		name string
		// before prepares the browser (signing in, granting) and returns
		// the parameters of the request to make.
		before    func(t *testing.T, f *fixture) url.Values
		wantError string
	}{
		{
			name: "prompt=none, signed out of Google",
			before: func(t *testing.T, f *fixture) url.Values {
				return withPrompt(authParams(), "none")
			},
			wantError: "login_required",
		},
		{
			name: "prompt=none, login_hint of an account not signed in",
			before: func(t *testing.T, f *fixture) url.Values {
				f.code(t, authParams(), hanako)
				params := withPrompt(authParams(), "none")
				params.Set("login_hint", alex)
				return params
			},
			wantError: "login_required",
		},
		{
			name: "prompt=none, signed in but never granted",
			before: func(t *testing.T, f *fixture) url.Values {
				params := authParams()
				params.Set("scope", "openid")
				f.code(t, params, hanako)
				return withPrompt(authParams(), "none")
			},
			wantError: "consent_required",
		},
		{
			name: "prompt=none, two accounts signed in and no hint",
			before: func(t *testing.T, f *fixture) url.Values {
				f.code(t, authParams(), hanako)
				f.code(t, withPrompt(authParams(), "consent"), alex)
				return withPrompt(authParams(), "none")
			},
			wantError: "interaction_required",
		},
		{
			name: "prompt=none after the grant was revoked",
			before: func(t *testing.T, f *fixture) url.Values {
				tokens := f.signIn(t, hanako)
				wantStatus(t, f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.RefreshToken}}), http.StatusOK)
				return withPrompt(authParams(), "none")
			},
			wantError: "consent_required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.keepGoogleSession(t)
			resp := f.authorize(t, tt.before(t, f))
			if resp.status != http.StatusFound {
				t.Fatalf("GET %s = %d; want 302 and no page\n%s", sandbox.AuthPath, resp.status, resp.body)
			}
			loc := resp.location(t)
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
				t.Errorf("redirected to %s; want %s", got, redirectURI)
			}
			if got := loc.Query().Get("error"); got != tt.wantError {
				t.Errorf("error = %q; want %q", got, tt.wantError)
			}
			if got := loc.Query().Get("state"); got != "state-123" {
				t.Errorf("state = %q; want state-123", got)
			}
			if loc.Query().Has("code") {
				t.Errorf("error redirect carries a code: %s", loc)
			}
		})
	}
}

func TestAuthorizeKeepsTheRedirectURIQuery(t *testing.T) {
	f := newFixture(t)
	params := withPrompt(authParams(), "none")
	params.Set("redirect_uri", otherURI)
	loc := f.authorize(t, params).location(t)
	if loc.Query().Get("tenant") != "1" || loc.Query().Get("error") != "login_required" {
		t.Errorf("redirect = %s; want the registered query tenant=1 kept next to error", loc)
	}
}

// TestSecondSignIn follows one browser through the sign-ins Google
// distinguishes: the first offline grant gets a refresh token; later ones
// skip the consent screen (the account chooser stays) and get none, unless
// prompt=consent asks again; prompt=none answers with a code and no page.
func TestSecondSignIn(t *testing.T) {
	type step struct {
		name        string
		params      url.Values
		wantPage    string // "consent", "chooser" or "" for no page
		wantPrompt  string // the callback's prompt parameter
		wantRefresh bool
	}
	steps := []step{
		{name: "first sign-in", params: authParams(), wantPage: "consent", wantPrompt: "consent", wantRefresh: true},
		{name: "second sign-in", params: authParams(), wantPage: "chooser", wantPrompt: "none", wantRefresh: false},
		{name: "prompt=none", params: withPrompt(authParams(), "none"), wantPage: "", wantPrompt: "none", wantRefresh: false},
		{name: "prompt=consent", params: withPrompt(authParams(), "consent"), wantPage: "consent", wantPrompt: "consent", wantRefresh: true},
		{name: "after prompt=consent", params: authParams(), wantPage: "chooser", wantPrompt: "none", wantRefresh: false},
	}
	f := newFixture(t)
	f.keepGoogleSession(t)
	for _, st := range steps {
		resp := f.authorize(t, st.params)
		if st.wantPage == "" {
			if resp.status != http.StatusFound {
				t.Fatalf("%s: GET %s = %d; want 302 with no page\n%s", st.name, sandbox.AuthPath, resp.status, resp.body)
			}
		} else {
			if resp.status != http.StatusOK {
				t.Fatalf("%s: GET %s = %d; want 200\n%s", st.name, sandbox.AuthPath, resp.status, resp.body)
			}
			page := string(resp.body)
			if hasScopes := strings.Contains(page, `name="scope"`); hasScopes != (st.wantPage == "consent") {
				t.Errorf("%s: page shows scope checkboxes = %t; want the %s page", st.name, hasScopes, st.wantPage)
			}
			if !strings.Contains(page, `value="hanako.yamada@example.jp" required checked>`) {
				t.Errorf("%s: page does not preselect the signed-in account", st.name)
			}
			form := allowForm(string(consentIDPattern.FindSubmatch(resp.body)[1]), hanako, strings.Fields(st.params.Get("scope"))...)
			if st.wantPage == "chooser" {
				form.Del("scope")
			}
			resp = f.postForm(t, sandbox.AuthPath, form)
			if resp.status != http.StatusSeeOther {
				t.Fatalf("%s: POST %s = %d; want 303\n%s", st.name, sandbox.AuthPath, resp.status, resp.body)
			}
		}
		query := resp.location(t).Query()
		if got := query.Get("prompt"); got != st.wantPrompt {
			t.Errorf("%s: callback prompt = %q; want %q", st.name, got, st.wantPrompt)
		}
		if got := query.Get("authuser"); got != "0" {
			t.Errorf("%s: callback authuser = %q; want 0", st.name, got)
		}
		if query.Has("hd") {
			t.Errorf("%s: callback for a consumer account has hd=%q", st.name, query.Get("hd"))
		}
		token := f.postForm(t, sandbox.TokenPath, exchangeForm(query.Get("code")))
		wantStatus(t, token, http.StatusOK)
		var tokens tokenResponse
		token.decode(t, &tokens)
		if got := tokens.RefreshToken != ""; got != st.wantRefresh {
			t.Errorf("%s: refresh token issued = %t; want %t", st.name, got, st.wantRefresh)
		}
	}
}

func TestChooserAccountWithoutAGrantGetsTheConsentScreen(t *testing.T) {
	f := newFixture(t)
	f.keepGoogleSession(t)
	f.code(t, authParams(), hanako)
	resp := f.authorize(t, authParams())
	match := consentIDPattern.FindSubmatch(resp.body)
	if resp.status != http.StatusOK || match == nil || strings.Contains(string(resp.body), `name="scope"`) {
		t.Fatalf("GET %s = %d; want the account chooser\n%s", sandbox.AuthPath, resp.status, resp.body)
	}
	consent := f.postForm(t, sandbox.AuthPath, allowForm(string(match[1]), alex))
	if consent.status != http.StatusOK || !strings.Contains(string(consent.body), `name="scope"`) ||
		!strings.Contains(string(consent.body), `value="alex@example.com" required checked>`) {
		t.Fatalf("POST %s choosing an account without a grant = %d; want the consent screen for it\n%s", sandbox.AuthPath, consent.status, consent.body)
	}
	back := f.postForm(t, sandbox.AuthPath, allowForm(string(consentIDPattern.FindSubmatch(consent.body)[1]), alex, sandbox.GmailScope))
	query := back.location(t).Query()
	if query.Get("code") == "" || query.Get("prompt") != "consent" || query.Get("authuser") != "1" || query.Get("hd") != "example.com" {
		t.Errorf("callback = %v; want a code, prompt=consent, authuser=1 (second account signed in) and hd=example.com (a Workspace account)", query)
	}
}

func TestIncludeGrantedScopes(t *testing.T) {
	tests := []struct {
		name      string
		include   string
		wantScope string
	}{
		{name: "include_granted_scopes=true", include: "true", wantScope: "openid " + sandbox.GmailScope},
		{name: "without include_granted_scopes", include: "", wantScope: sandbox.GmailScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			first := authParams()
			first.Set("scope", "openid")
			f.code(t, first, hanako)
			second := authParams()
			second.Set("scope", sandbox.GmailScope)
			if tt.include != "" {
				second.Set("include_granted_scopes", tt.include)
			}
			form := exchangeForm(f.code(t, second, hanako))
			resp := f.postForm(t, sandbox.TokenPath, form)
			wantStatus(t, resp, http.StatusOK)
			var tokens tokenResponse
			resp.decode(t, &tokens)
			if tokens.Scope != tt.wantScope {
				t.Errorf("token scope = %q; want %q", tokens.Scope, tt.wantScope)
			}
		})
	}
}

// withPrompt returns params with the prompt parameter set.
func withPrompt(params url.Values, prompt string) url.Values {
	params.Set("prompt", prompt)
	return params
}

func TestConsentPage(t *testing.T) {
	f := newFixture(t)
	resp := f.authorize(t, authParams())
	if resp.status != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200", sandbox.AuthPath, resp.status)
	}
	page := string(resp.body)
	wants := []string{
		`<html lang="en">`,
		"not Google",
		`<strong class="client">sandbox-test<wbr>.apps<wbr>.googleusercontent<wbr>.com</strong>`,
		`<link rel="stylesheet" href="/sandbox.css">`,
		`<link rel="icon" href="/favicon.ico"`,
		`<form method="post" action="/o/oauth2/v2/auth"`,
		`name="consent_id"`,
		`<input type="radio" name="account" value="hanako.yamada@example.jp" required checked>`,
		`<input type="radio" name="account" value="alex@example.com" required>`,
		`<input type="radio" name="account" value="empty@example.com" required>`,
		"山田 花子",
		`<input type="checkbox" name="scope" value="openid" checked>`,
		`<input type="checkbox" name="scope" value="https://www.googleapis.com/auth/userinfo.email" checked>`,
		`<input type="checkbox" name="scope" value="https://www.googleapis.com/auth/gmail.readonly" checked>`,
		`<button type="submit" name="decision" value="allow"`,
		`<button type="submit" name="decision" value="deny"`,
	}
	for _, want := range wants {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks %s", want)
		}
	}
	for _, banned := range []string{"<script", "style=", "<style"} {
		if strings.Contains(page, banned) {
			t.Errorf("consent page contains %s; the CSP forbids inline script and style", banned)
		}
	}
	csp := resp.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'",
		"form-action 'self' http://127.0.0.1:8080 https://app.example.com;"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy = %q; want it to contain %q", csp, want)
		}
	}
	if got := resp.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", got)
	}
}

func TestConsentPagePreselectsTheLoginHint(t *testing.T) {
	f := newFixture(t)
	params := authParams()
	params.Set("login_hint", "Alex@Example.com")
	page := string(f.authorize(t, params).body)
	if !strings.Contains(page, `value="alex@example.com" required checked>`) ||
		strings.Contains(page, `value="hanako.yamada@example.jp" required checked>`) {
		t.Errorf("login_hint did not preselect alex@example.com:\n%s", page)
	}
}

func TestConsentDecision(t *testing.T) {
	allScopes := []string{"openid", "email", sandbox.GmailScope}
	tests := []struct {
		name      string
		form      func(consentID string) url.Values
		wantError string // "" means a code is expected
		wantScope string
	}{
		{
			name:      "allow everything",
			form:      func(id string) url.Values { return allowForm(id, hanako, allScopes...) },
			wantScope: "openid " + sandbox.EmailScope + " " + sandbox.GmailScope,
		},
		{
			name:      "allow with a scope unticked",
			form:      func(id string) url.Values { return allowForm(id, alex, sandbox.GmailScope, "openid") },
			wantScope: "openid " + sandbox.GmailScope,
		},
		{
			name:      "allow with every scope unticked",
			form:      func(id string) url.Values { return allowForm(id, hanako) },
			wantError: "access_denied",
		},
		{
			name: "deny",
			form: func(id string) url.Values {
				form := allowForm(id, hanako, allScopes...)
				form.Set("decision", "deny")
				return form
			},
			wantError: "access_denied",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			resp := f.postForm(t, sandbox.AuthPath, tt.form(f.consentID(t, authParams())))
			if resp.status != http.StatusSeeOther {
				t.Fatalf("POST %s = %d; want 303\n%s", sandbox.AuthPath, resp.status, resp.body)
			}
			query := resp.location(t).Query()
			if got := query.Get("state"); got != "state-123" {
				t.Errorf("state = %q; want state-123", got)
			}
			if got := query.Get("error"); got != tt.wantError {
				t.Errorf("error = %q; want %q", got, tt.wantError)
			}
			if tt.wantError != "" {
				if query.Has("code") {
					t.Errorf("denied consent still carries a code")
				}
				return
			}
			if !strings.HasPrefix(query.Get("code"), "4/") {
				t.Errorf("code = %q; want a Google-like code starting 4/", query.Get("code"))
			}
			if got := query.Get("scope"); got != tt.wantScope {
				t.Errorf("scope = %q; want %q", got, tt.wantScope)
			}
		})
	}
}

func TestConsentFormRefusals(t *testing.T) {
	tests := []struct {
		name       string
		post       func(t *testing.T, f *fixture) response
		wantStatus int
	}{
		{
			name: "reused consent ID",
			post: func(t *testing.T, f *fixture) response {
				id := f.consentID(t, authParams())
				f.postForm(t, sandbox.AuthPath, allowForm(id, hanako, sandbox.GmailScope))
				return f.postForm(t, sandbox.AuthPath, allowForm(id, hanako, sandbox.GmailScope))
			},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "unknown consent ID",
			post: func(t *testing.T, f *fixture) response {
				return f.postForm(t, sandbox.AuthPath, allowForm("made-up", hanako, sandbox.GmailScope))
			},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "expired consent ID",
			post: func(t *testing.T, f *fixture) response {
				id := f.consentID(t, authParams())
				f.clock.Advance(sandbox.DefaultCodeTTL + time.Second)
				return f.postForm(t, sandbox.AuthPath, allowForm(id, hanako, sandbox.GmailScope))
			},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "unknown account",
			post: func(t *testing.T, f *fixture) response {
				return f.postForm(t, sandbox.AuthPath, allowForm(f.consentID(t, authParams()), "mallory@example.com", sandbox.GmailScope))
			},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "scope that was not requested",
			post: func(t *testing.T, f *fixture) response {
				return f.postForm(t, sandbox.AuthPath, allowForm(f.consentID(t, authParams()), hanako, "profile"))
			},
			wantStatus: http.StatusBadRequest,
		},
		{
			name: "cross-site post",
			post: func(t *testing.T, f *fixture) response {
				form := allowForm(f.consentID(t, authParams()), hanako, sandbox.GmailScope)
				req, err := http.NewRequest(http.MethodPost, f.url+sandbox.AuthPath, strings.NewReader(form.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "cross-site")
				req.Header.Set("Origin", "https://evil.example")
				return f.do(t, req)
			},
			wantStatus: http.StatusForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.post(t, newFixture(t))
			if resp.status != tt.wantStatus {
				t.Fatalf("POST %s = %d; want %d", sandbox.AuthPath, resp.status, tt.wantStatus)
			}
			if loc := resp.header.Get("Location"); loc != "" {
				t.Errorf("Location = %q; want an error page, not a redirect", loc)
			}
			if !strings.Contains(string(resp.body), "<html") {
				t.Errorf("body is not an HTML page:\n%s", resp.body)
			}
		})
	}
}
