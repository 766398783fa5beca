package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

func TestAuthorizeShowsAnErrorPageWhenTheRedirectCannotBeTrusted(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		edit     func(url.Values)
		wantText string
	}{
		{"missing client_id", func(p url.Values) { p.Del("client_id") }, "invalid_request"},
		{"unknown client_id", func(p url.Values) { p.Set("client_id", "someone-else.apps.googleusercontent.com") }, "invalid_client"},
		{"repeated client_id", func(p url.Values) { p.Add("client_id", clientID) }, "invalid_request"},
		{"missing redirect_uri", func(p url.Values) { p.Del("redirect_uri") }, "invalid_request"},
		{"unregistered redirect_uri", func(p url.Values) { p.Set("redirect_uri", "http://127.0.0.1:8081/callback") }, "redirect_uri_mismatch"},
		{"redirect_uri with trailing slash", func(p url.Values) { p.Set("redirect_uri", redirectURI+"/") }, "redirect_uri_mismatch"},
		{"redirect_uri in another case", func(p url.Values) { p.Set("redirect_uri", strings.ToUpper(redirectURI)) }, "redirect_uri_mismatch"},
		{"redirect_uri without its query", func(p url.Values) { p.Set("redirect_uri", "https://app.example.com/oauth/callback") }, "redirect_uri_mismatch"},
		{"repeated redirect_uri", func(p url.Values) { p.Add("redirect_uri", redirectURI) }, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := authParams()
			tt.edit(params)
			resp := f.authorize(t, params)
			if resp.status != http.StatusBadRequest {
				t.Fatalf("GET %s = %d; want 400", sandbox.AuthPath, resp.status)
			}
			if loc := resp.header.Get("Location"); loc != "" {
				t.Errorf("Location = %q; want no redirect to an untrusted URI", loc)
			}
			if got := resp.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q; want an HTML page", got)
			}
			if !strings.Contains(string(resp.body), "Error 400: "+tt.wantText) {
				t.Errorf("page does not say %q:\n%s", "Error 400: "+tt.wantText, resp.body)
			}
		})
	}
}

func TestAuthorizeRedirectsOtherErrorsToTheApp(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name      string
		edit      func(url.Values)
		wantError string
	}{
		{"response_type token", func(p url.Values) { p.Set("response_type", "token") }, "unsupported_response_type"},
		{"missing response_type", func(p url.Values) { p.Del("response_type") }, "unsupported_response_type"},
		{"missing scope", func(p url.Values) { p.Del("scope") }, "invalid_scope"},
		{"blank scope", func(p url.Values) { p.Set("scope", "  ") }, "invalid_scope"},
		{"full mail scope", func(p url.Values) { p.Set("scope", "https://mail.google.com/") }, "invalid_scope"},
		{"unknown scope next to Gmail", func(p url.Values) { p.Set("scope", sandbox.GmailScope+" https://www.googleapis.com/auth/drive") }, "invalid_scope"},
		{"missing code_challenge", func(p url.Values) { p.Del("code_challenge") }, "invalid_request"},
		{"missing code_challenge_method", func(p url.Values) { p.Del("code_challenge_method") }, "invalid_request"},
		{"plain method", func(p url.Values) { p.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"lower-case method", func(p url.Values) { p.Set("code_challenge_method", "s256") }, "invalid_request"},
		{"short challenge", func(p url.Values) { p.Set("code_challenge", challenge[:42]) }, "invalid_request"},
		{"long challenge", func(p url.Values) { p.Set("code_challenge", challenge+"A") }, "invalid_request"},
		{"padded challenge", func(p url.Values) { p.Set("code_challenge", challenge[:42]+"=") }, "invalid_request"},
		{"standard base64 challenge", func(p url.Values) { p.Set("code_challenge", "+"+challenge[1:]) }, "invalid_request"},
		{"bad access_type", func(p url.Values) { p.Set("access_type", "forever") }, "invalid_request"},
		{"repeated scope", func(p url.Values) { p.Add("scope", "email") }, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := authParams()
			tt.edit(params)
			resp := f.authorize(t, params)
			if resp.status != http.StatusFound {
				t.Fatalf("GET %s = %d; want 302\n%s", sandbox.AuthPath, resp.status, resp.body)
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
	params := authParams()
	params.Set("redirect_uri", otherURI)
	params.Set("response_type", "token")
	loc := f.authorize(t, params).location(t)
	if loc.Query().Get("tenant") != "1" || loc.Query().Get("error") != "unsupported_response_type" {
		t.Errorf("redirect = %s; want the registered query tenant=1 kept next to error", loc)
	}
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
		clientID,
		`<link rel="stylesheet" href="/sandbox.css">`,
		`<link rel="icon" href="/favicon.ico"`,
		`<form method="post" action="/o/oauth2/v2/auth"`,
		`name="consent_id"`,
		`<input type="radio" name="account" value="hanako.yamada@example.jp" required checked>`,
		`<input type="radio" name="account" value="alex@example.com" required>`,
		`<input type="radio" name="account" value="empty@example.com" required>`,
		"山田 花子",
		`<input type="checkbox" name="scope" value="openid" checked>`,
		`<input type="checkbox" name="scope" value="email" checked>`,
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
			wantScope: "openid email " + sandbox.GmailScope,
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
