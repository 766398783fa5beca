package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

// tokenRequest describes one request to the token endpoint.
type tokenRequest struct {
	method      string // default POST
	contentType string // default form
	query       string
	form        url.Values
	basic       bool // move client_id/client_secret into HTTP Basic
}

func (f *fixture) token(t *testing.T, tr tokenRequest) response {
	t.Helper()
	form := url.Values{}
	for name, values := range tr.form {
		form[name] = append([]string(nil), values...)
	}
	method := tr.method
	if method == "" {
		method = http.MethodPost
	}
	target := f.url + sandbox.TokenPath
	if tr.query != "" {
		target += "?" + tr.query
	}
	var basicID, basicSecret string
	if tr.basic {
		basicID, basicSecret = form.Get("client_id"), form.Get("client_secret")
		form.Del("client_id")
		form.Del("client_secret")
	}
	req, err := http.NewRequest(method, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if tr.contentType == "" {
		tr.contentType = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", tr.contentType)
	if tr.basic {
		// RFC 6749 §2.3.1: form-encode each half before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	return f.do(t, req)
}

func wantOAuthError(t *testing.T, resp response, status int, code string) {
	t.Helper()
	if resp.status != status {
		t.Fatalf("POST %s = %d; want %d\n%s", sandbox.TokenPath, resp.status, status, resp.body)
	}
	var body oauthErrorResponse
	resp.decode(t, &body)
	if body.Error != code || body.Description == "" {
		t.Errorf("error = %+v; want %s with a description", body, code)
	}
	for name, want := range map[string]string{
		"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", "Pragma": "no-cache",
	} {
		if got := resp.header.Get(name); got != want {
			t.Errorf("%s = %q; want %q", name, got, want)
		}
	}
}

func TestTokenEndpointRefusesBadRequests(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		request    func(code string) tokenRequest
		wantStatus int
		wantError  string
	}{
		{"GET", func(code string) tokenRequest {
			return tokenRequest{method: http.MethodGet, form: exchangeForm(code)}
		}, http.StatusMethodNotAllowed, "invalid_request"},
		{"JSON body", func(code string) tokenRequest {
			return tokenRequest{contentType: "application/json", form: exchangeForm(code)}
		}, http.StatusBadRequest, "invalid_request"},
		{"code in the query string", func(code string) tokenRequest {
			return tokenRequest{query: "code=" + url.QueryEscape(code), form: exchangeForm(code)}
		}, http.StatusBadRequest, "invalid_request"},
		{"secret in the query string", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Del("client_secret")
			return tokenRequest{query: "client_secret=" + url.QueryEscape(clientSecret), form: form}
		}, http.StatusBadRequest, "invalid_request"},
		{"repeated parameter", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Add("grant_type", "authorization_code")
			return tokenRequest{form: form}
		}, http.StatusBadRequest, "invalid_request"},
		{"wrong secret in the body", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Set("client_secret", "wrong")
			return tokenRequest{form: form}
		}, http.StatusUnauthorized, "invalid_client"},
		{"unknown client in the body", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Set("client_id", "other.apps.googleusercontent.com")
			return tokenRequest{form: form}
		}, http.StatusUnauthorized, "invalid_client"},
		{"missing secret", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Del("client_secret")
			return tokenRequest{form: form}
		}, http.StatusUnauthorized, "invalid_client"},
		{"no client authentication", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Del("client_secret")
			form.Del("client_id")
			return tokenRequest{form: form}
		}, http.StatusBadRequest, "invalid_request"},
		{"wrong secret with Basic", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Set("client_secret", "wrong")
			return tokenRequest{form: form, basic: true}
		}, http.StatusUnauthorized, "invalid_client"},
		{"unknown client with Basic", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Set("client_id", "other.apps.googleusercontent.com")
			return tokenRequest{form: form, basic: true}
		}, http.StatusUnauthorized, "invalid_client"},
		{"missing grant_type", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Del("grant_type")
			return tokenRequest{form: form}
		}, http.StatusBadRequest, "unsupported_grant_type"},
		{"password grant", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Set("grant_type", "password")
			return tokenRequest{form: form}
		}, http.StatusBadRequest, "unsupported_grant_type"},
		{"client_credentials grant", func(code string) tokenRequest {
			form := exchangeForm(code)
			form.Set("grant_type", "client_credentials")
			return tokenRequest{form: form}
		}, http.StatusBadRequest, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := f.code(t, authParams(), hanako)
			resp := f.token(t, tt.request(code))
			wantOAuthError(t, resp, tt.wantStatus, tt.wantError)
			if tt.wantStatus == http.StatusUnauthorized && !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate = %q; want Basic", resp.header.Get("WWW-Authenticate"))
			}
			// A request refused before the grant is looked at leaves the code usable.
			wantStatus(t, f.token(t, tokenRequest{form: exchangeForm(code)}), http.StatusOK)
		})
	}
}

func TestTokenEndpointRefusesTwoClientAuthentications(t *testing.T) {
	f := newFixture(t)
	form := exchangeForm(f.code(t, authParams(), hanako))
	req, err := http.NewRequest(http.MethodPost, f.url+sandbox.TokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	wantOAuthError(t, f.do(t, req), http.StatusBadRequest, "invalid_request")
}

func TestAuthorizationCodeGrant(t *testing.T) {
	tests := []struct {
		name string
		// edit changes the token request; nil means a valid one.
		edit      func(form url.Values)
		basic     bool
		wantError string
	}{
		{name: "valid, client secret in the body"},
		{name: "valid, HTTP Basic", basic: true},
		{name: "unknown code", edit: func(form url.Values) { form.Set("code", "4/sandbox.made-up") }, wantError: "invalid_grant"},
		{name: "missing code", edit: func(form url.Values) { form.Del("code") }, wantError: "invalid_request"},
		{name: "other registered redirect_uri", edit: func(form url.Values) { form.Set("redirect_uri", otherURI) }, wantError: "redirect_uri_mismatch"},
		{name: "missing redirect_uri", edit: func(form url.Values) { form.Del("redirect_uri") }, wantError: "redirect_uri_mismatch"},
		{name: "wrong verifier", edit: func(form url.Values) { form.Set("code_verifier", strings.Repeat("a", 43)) }, wantError: "invalid_grant"},
		{name: "missing verifier", edit: func(form url.Values) { form.Del("code_verifier") }, wantError: "invalid_grant"},
		{name: "verifier sent as the challenge", edit: func(form url.Values) { form.Set("code_verifier", challenge) }, wantError: "invalid_grant"},
		{name: "verifier too short", edit: func(form url.Values) { form.Set("code_verifier", verifier[:42]) }, wantError: "invalid_grant"},
		{name: "verifier too long", edit: func(form url.Values) { form.Set("code_verifier", strings.Repeat(verifier, 3)) }, wantError: "invalid_grant"},
		{name: "verifier with a reserved character", edit: func(form url.Values) { form.Set("code_verifier", verifier+"+") }, wantError: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			form := exchangeForm(f.code(t, authParams(), hanako))
			if tt.edit != nil {
				tt.edit(form)
			}
			resp := f.token(t, tokenRequest{form: form, basic: tt.basic})
			if tt.wantError != "" {
				wantOAuthError(t, resp, http.StatusBadRequest, tt.wantError)
				return
			}
			if resp.status != http.StatusOK {
				t.Fatalf("POST %s = %d; want 200\n%s", sandbox.TokenPath, resp.status, resp.body)
			}
			var tokens tokenResponse
			resp.decode(t, &tokens)
			if !strings.HasPrefix(tokens.AccessToken, "ya29.") || !strings.HasPrefix(tokens.RefreshToken, "1//") {
				t.Errorf("tokens = %+v; want Google-like ya29. and 1// tokens", tokens)
			}
			if tokens.TokenType != "Bearer" || tokens.ExpiresIn != 3599 || tokens.Scope != "openid "+sandbox.EmailScope+" "+sandbox.GmailScope {
				t.Errorf("token response = %+v; want Bearer, 3599 s (as Google says for an hour), the granted scopes", tokens)
			}
			if resp.header.Get("Cache-Control") != "no-store" || resp.header.Get("Pragma") != "no-cache" {
				t.Errorf("token response headers = %v; want Cache-Control: no-store and Pragma: no-cache", resp.header)
			}
			wantStatus(t, f.gmail(t, tokens.AccessToken, "/gmail/v1/users/me/profile"), http.StatusOK)
		})
	}
}

func TestOnlineAccessGetsNoRefreshToken(t *testing.T) {
	f := newFixture(t)
	params := authParams()
	params.Del("access_type")
	resp := f.token(t, tokenRequest{form: exchangeForm(f.code(t, params, hanako))})
	wantStatus(t, resp, http.StatusOK)
	if strings.Contains(string(resp.body), "refresh_token") {
		t.Errorf("online token response has a refresh_token:\n%s", resp.body)
	}
}

func TestReusedCodeRevokesItsTokens(t *testing.T) {
	f := newFixture(t)
	form := exchangeForm(f.code(t, authParams(), hanako))
	first := f.token(t, tokenRequest{form: form})
	wantStatus(t, first, http.StatusOK)
	var tokens tokenResponse
	first.decode(t, &tokens)

	wantOAuthError(t, f.token(t, tokenRequest{form: form}), http.StatusBadRequest, "invalid_grant")

	wantGoogleError(t, "GET profile with the first access token", f.gmail(t, tokens.AccessToken, "/gmail/v1/users/me/profile"),
		http.StatusUnauthorized, "UNAUTHENTICATED", "authError")
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens.RefreshToken},
		"client_id": {clientID}, "client_secret": {clientSecret}}
	wantOAuthError(t, f.token(t, tokenRequest{form: refresh}), http.StatusBadRequest, "invalid_grant")
}

func TestFailedRedemptionUsesTheCodeUp(t *testing.T) {
	f := newFixture(t)
	form := exchangeForm(f.code(t, authParams(), hanako))
	wrong := url.Values{}
	for name, values := range form {
		wrong[name] = values
	}
	wrong.Set("code_verifier", strings.Repeat("b", 64))
	wantOAuthError(t, f.token(t, tokenRequest{form: wrong}), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, f.token(t, tokenRequest{form: form}), http.StatusBadRequest, "invalid_grant")
}

func TestExpiredCode(t *testing.T) {
	tests := []struct {
		name       string
		wait       time.Duration
		wantStatus int
	}{
		{"just before CodeTTL", 2*time.Minute - time.Second, http.StatusOK},
		{"at CodeTTL", 2 * time.Minute, http.StatusBadRequest},
		{"long after", time.Hour, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(o *sandbox.Options) { o.CodeTTL = 2 * time.Minute })
			form := exchangeForm(f.code(t, authParams(), hanako))
			f.clock.Advance(tt.wait)
			resp := f.token(t, tokenRequest{form: form})
			if tt.wantStatus == http.StatusOK {
				wantStatus(t, resp, http.StatusOK)
				return
			}
			wantOAuthError(t, resp, tt.wantStatus, "invalid_grant")
		})
	}
}

func TestRefreshTokenGrant(t *testing.T) {
	refreshForm := func(refreshToken string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken},
			"client_id": {clientID}, "client_secret": {clientSecret}}
	}
	tests := []struct {
		name      string
		prepare   func(t *testing.T, f *fixture, tokens tokenResponse)
		edit      func(form url.Values)
		wantError string
		wantScope string
	}{
		{name: "fresh grant", wantScope: "openid " + sandbox.EmailScope + " " + sandbox.GmailScope},
		{name: "after the access token expired", prepare: func(_ *testing.T, f *fixture, _ tokenResponse) { f.clock.Advance(2 * time.Hour) },
			wantScope: "openid " + sandbox.EmailScope + " " + sandbox.GmailScope},
		{name: "narrowed scope", edit: func(form url.Values) { form.Set("scope", sandbox.GmailScope) }, wantScope: sandbox.GmailScope},
		{name: "wider scope", edit: func(form url.Values) { form.Set("scope", "profile") }, wantError: "invalid_scope"},
		{name: "unknown refresh token", edit: func(form url.Values) { form.Set("refresh_token", "1//sandbox.made-up") }, wantError: "invalid_grant"},
		{name: "missing refresh token", edit: func(form url.Values) { form.Del("refresh_token") }, wantError: "invalid_request"},
		{name: "after revoking the refresh token", prepare: func(t *testing.T, f *fixture, tokens tokenResponse) {
			wantStatus(t, f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.RefreshToken}}), http.StatusOK)
		}, wantError: "invalid_grant"},
		{name: "after revoking the access token", prepare: func(t *testing.T, f *fixture, tokens tokenResponse) {
			wantStatus(t, f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.AccessToken}}), http.StatusOK)
		}, wantError: "invalid_grant"},
		{name: "after RevokeAccount", prepare: func(_ *testing.T, f *fixture, _ tokenResponse) { f.sandbox.RevokeAccount(hanako) }, wantError: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tokens := f.signIn(t, hanako)
			if tt.prepare != nil {
				tt.prepare(t, f, tokens)
			}
			form := refreshForm(tokens.RefreshToken)
			if tt.edit != nil {
				tt.edit(form)
			}
			f.sandbox.ResetStats()
			resp := f.token(t, tokenRequest{form: form, basic: true})
			if got := f.sandbox.Stats().RefreshGrants; got != 1 {
				t.Errorf("Stats().RefreshGrants = %d; want 1", got)
			}
			if tt.wantError != "" {
				wantOAuthError(t, resp, http.StatusBadRequest, tt.wantError)
				if tt.wantError == "invalid_grant" {
					var body oauthErrorResponse
					resp.decode(t, &body)
					if body.Description != "Token has been expired or revoked." {
						t.Errorf("error_description = %q; want Google's %q", body.Description, "Token has been expired or revoked.")
					}
				}
				return
			}
			wantStatus(t, resp, http.StatusOK)
			var refreshed tokenResponse
			resp.decode(t, &refreshed)
			if refreshed.RefreshToken != "" {
				t.Errorf("refresh response has a new refresh_token; Google sends none")
			}
			if refreshed.AccessToken == "" || refreshed.AccessToken == tokens.AccessToken || refreshed.TokenType != "Bearer" ||
				refreshed.ExpiresIn != 3599 || refreshed.Scope != tt.wantScope {
				t.Errorf("refresh response = %+v; want a new Bearer token for 3599 s with scope %q", refreshed, tt.wantScope)
			}
			wantStatus(t, f.gmail(t, refreshed.AccessToken, "/gmail/v1/users/me/profile"), http.StatusOK)
		})
	}
}

func TestSetAccessTokenTTL(t *testing.T) {
	f := newFixture(t)
	f.sandbox.SetAccessTokenTTL(5 * time.Second)
	tokens := f.signIn(t, hanako)
	if tokens.ExpiresIn != 4 {
		t.Errorf("expires_in = %d; want 4 (a second short, as Google's 3599 for an hour)", tokens.ExpiresIn)
	}
	f.clock.Advance(5 * time.Second)
	wantGoogleError(t, "GET profile after expiry", f.gmail(t, tokens.AccessToken, "/gmail/v1/users/me/profile"),
		http.StatusUnauthorized, "UNAUTHENTICATED", "authError")
}

// TestTokenErrorDescriptionsAreGoogles pins the error bodies an app meets at
// Google's token endpoint, texts included.
func TestTokenErrorDescriptionsAreGoogles(t *testing.T) {
	tests := []struct {
		name            string
		form            func(t *testing.T, f *fixture) url.Values
		wantStatus      int
		wantError       string
		wantDescription string
	}{
		{
			name: "wrong client secret",
			form: func(t *testing.T, f *fixture) url.Values {
				form := exchangeForm(f.code(t, authParams(), hanako))
				form.Set("client_secret", "wrong")
				return form
			},
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client", wantDescription: "Unauthorized",
		},
		{
			name: "unknown client",
			form: func(t *testing.T, f *fixture) url.Values {
				form := exchangeForm(f.code(t, authParams(), hanako))
				form.Set("client_id", "other.apps.googleusercontent.com")
				return form
			},
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client", wantDescription: "The OAuth client was not found.",
		},
		{
			name: "missing grant_type",
			form: func(t *testing.T, f *fixture) url.Values {
				form := exchangeForm(f.code(t, authParams(), hanako))
				form.Del("grant_type")
				return form
			},
			wantStatus: http.StatusBadRequest, wantError: "unsupported_grant_type", wantDescription: "Invalid grant_type: ",
		},
		{
			name: "unknown code",
			form: func(t *testing.T, f *fixture) url.Values {
				return exchangeForm("4/sandbox.made-up")
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant", wantDescription: "Malformed auth code.",
		},
		{
			name: "code redeemed twice",
			form: func(t *testing.T, f *fixture) url.Values {
				form := exchangeForm(f.code(t, authParams(), hanako))
				wantStatus(t, f.postForm(t, sandbox.TokenPath, form), http.StatusOK)
				return form
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant", wantDescription: "Bad Request",
		},
		{
			name: "code redeemed with another redirect URI",
			form: func(t *testing.T, f *fixture) url.Values {
				form := exchangeForm(f.code(t, authParams(), hanako))
				form.Set("redirect_uri", otherURI)
				return form
			},
			wantStatus: http.StatusBadRequest, wantError: "redirect_uri_mismatch", wantDescription: "Bad Request",
		},
		{
			name: "revoked refresh token",
			form: func(t *testing.T, f *fixture) url.Values {
				tokens := f.signIn(t, hanako)
				wantStatus(t, f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.RefreshToken}}), http.StatusOK)
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens.RefreshToken},
					"client_id": {clientID}, "client_secret": {clientSecret}}
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant", wantDescription: "Token has been expired or revoked.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			resp := f.postForm(t, sandbox.TokenPath, tt.form(t, f))
			wantOAuthError(t, resp, tt.wantStatus, tt.wantError)
			var body oauthErrorResponse
			resp.decode(t, &body)
			if body.Description != tt.wantDescription {
				t.Errorf("error_description = %q; want Google's %q", body.Description, tt.wantDescription)
			}
		})
	}
}
