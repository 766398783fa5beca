package contract_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gmailoauth/internal/apptest"
)

// webServerRef is Google's guide to the flow the app uses,
// https://developers.google.com/identity/protocols/oauth2/web-server. Its
// sample responses are testdata/token-exchange.json (step 5, exchanging
// the code) and testdata/token-refresh.json ("Refreshing an access
// token"). Error bodies follow RFC 6749 §5.2, which the guide's error codes
// (invalid_grant, invalid_client, …) come from; testdata/token-error.json
// is Google's answer to a refresh token it does not know.

// verifier is a PKCE code verifier, as the app sends one with every exchange.
const verifier = "contract-test-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"

// postForm sends a token or revocation request the way x/oauth2 and the app
// do: a form body, client credentials in it.
func postForm(t *testing.T, endpoint string, form url.Values) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

// refreshForm is a refresh request for the target's refresh token.
func (tg *target) refreshForm() url.Values {
	return url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {tg.refreshToken},
		"client_id":     {tg.clientID},
		"client_secret": {tg.clientSecret},
	}
}

func TestTokenRefresh(t *testing.T) {
	t.Run("the client decodes Google's answer", func(t *testing.T) {
		var form url.Values
		server := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			form = r.PostForm
			writeJSON(w, http.StatusOK, golden(t, "token-refresh.json"))
		})
		tg := &target{name: "golden", tokenURL: server.URL, clientID: "id", clientSecret: "secret"}
		before := time.Now()
		tok, err := tg.oauthConfig().TokenSource(t.Context(), &oauth2.Token{RefreshToken: "refresh-1"}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != "1/fFAGRNJru1FTz70BzhT3Zg" || tok.TokenType != "Bearer" || tok.RefreshToken != "refresh-1" {
			t.Errorf("token = %+v; want the golden access token, Bearer, and the refresh token kept", tok)
		}
		if lifetime := tok.Expiry.Sub(before); lifetime < 3919*time.Second || lifetime > 3921*time.Second+time.Since(before) {
			t.Errorf("token expires in %v; want expires_in's 3920 s", lifetime)
		}
		if got := form.Get("grant_type") + " " + form.Get("client_id") + " " + form.Get("client_secret"); got != "refresh_token id secret" {
			t.Errorf("the client sent %v; want grant_type=refresh_token with the client's credentials in the body", form)
		}
	})
	t.Run("the target answers in Google's shape", func(t *testing.T) {
		tg := newTarget(t)
		got := postForm(t, tg.tokenURL, tg.refreshForm())
		if got.status != http.StatusOK {
			t.Fatalf("%s: refresh = %d; want 200\n%s", tg.name, got.status, got.body)
		}
		wantJSON(t, tg, "token", got)
		checkShape(t, tg, "token-refresh.json", got.body)
		// Google's access tokens live an hour, and it says 3599 s.
		if expiresIn, _ := field(t, got.body, "expires_in").(float64); expiresIn <= 0 || expiresIn > 3600 {
			t.Errorf("%s: expires_in = %v; want at most an hour", tg.name, expiresIn)
		}
		if tokenType, _ := field(t, got.body, "token_type").(string); tokenType != "Bearer" {
			t.Errorf("%s: token_type = %q; want Bearer", tg.name, tokenType)
		}
		if scope, _ := field(t, got.body, "scope").(string); !strings.Contains(" "+scope+" ", " https://www.googleapis.com/auth/gmail.readonly ") {
			t.Errorf("%s: scope = %q; want the Gmail scope the grant holds", tg.name, scope)
		}
	})
}

func TestTokenExchange(t *testing.T) {
	t.Run("the client decodes Google's answer", func(t *testing.T) {
		var form url.Values
		server := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			form = r.PostForm
			writeJSON(w, http.StatusOK, golden(t, "token-exchange.json"))
		})
		tg := &target{name: "golden", tokenURL: server.URL, clientID: "id", clientSecret: "secret", redirectURI: "http://localhost:5000/callback"}
		tok, err := tg.oauthConfig().Exchange(t.Context(), "4/P7q7W91a-oMsCeLvIaQm6bTrgtp7", oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != "1/fFAGRNJru1FTz70BzhT3Zg" || tok.RefreshToken != "1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI" ||
			tok.Extra("scope") != "https://www.googleapis.com/auth/drive.metadata.readonly https://www.googleapis.com/auth/calendar.readonly" {
			t.Errorf("token = %+v, scope %q; want the golden tokens and scope", tok, tok.Extra("scope"))
		}
		want := url.Values{
			"grant_type": {"authorization_code"}, "code": {"4/P7q7W91a-oMsCeLvIaQm6bTrgtp7"}, "code_verifier": {verifier},
			"redirect_uri": {"http://localhost:5000/callback"}, "client_id": {"id"}, "client_secret": {"secret"},
		}
		if form.Encode() != want.Encode() {
			t.Errorf("the client sent %v; want %v", form, want)
		}
	})
	t.Run("the target answers in Google's shape", func(t *testing.T) {
		tg := newTarget(t)
		tg.sandboxOnly(t, "an authorization code takes a person at Google's consent screen, and each code is good once")
		code := consentCode(t, tg)
		form := url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {tg.redirectURI}, "client_id": {tg.clientID}, "client_secret": {tg.clientSecret},
		}
		got := postForm(t, tg.tokenURL, form)
		if got.status != http.StatusOK {
			t.Fatalf("%s: exchange = %d; want 200\n%s", tg.name, got.status, got.body)
		}
		wantJSON(t, tg, "token", got)
		checkShape(t, tg, "token-exchange.json", got.body)
	})
}

// consentCode runs the sandbox's consent page as a person who allows. It
// asks with prompt=consent: the target's account has granted access before,
// and Google then returns a refresh token only on a fresh consent.
func consentCode(t *testing.T, tg *target) string {
	t.Helper()
	params := url.Values{
		"client_id":             {tg.clientID},
		"redirect_uri":          {tg.redirectURI},
		"response_type":         {"code"},
		"scope":                 {"https://www.googleapis.com/auth/gmail.readonly"},
		"access_type":           {"offline"},
		"prompt":                {"consent"},
		"state":                 {"contract-state"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
	}
	browser := apptest.NewBrowser(t)
	page := browser.Get(t, tg.authURL+"?"+params.Encode())
	if page.StatusCode != http.StatusOK {
		t.Fatalf("%s: consent page = %d; want 200\n%s", tg.name, page.StatusCode, page.Body)
	}
	action, form := apptest.ParseForm(t, page)
	back := browser.Decide(t, &apptest.Consent{Page: page, Action: action, Form: form}, "allow").Location(t)
	if back.Query().Get("state") != "contract-state" || back.Query().Get("code") == "" {
		t.Fatalf("%s: consent redirected to %s; want the code and our state", tg.name, back.Redacted())
	}
	return back.Query().Get("code")
}

func TestTokenErrors(t *testing.T) {
	t.Run("the client decodes Google's answer", func(t *testing.T) {
		server := serveGolden(t, http.StatusBadRequest, golden(t, "token-error.json"))
		tg := &target{name: "golden", tokenURL: server.URL, clientID: "id", clientSecret: "secret"}
		_, err := tg.oauthConfig().TokenSource(t.Context(), &oauth2.Token{RefreshToken: "gone"}).Token()
		// internal/web signs the person in again on a 4xx invalid_grant.
		retrieve, ok := errors.AsType[*oauth2.RetrieveError](err)
		if !ok || retrieve.ErrorCode != "invalid_grant" || retrieve.ErrorDescription != "Bad Request" || retrieve.Response.StatusCode != http.StatusBadRequest {
			t.Errorf("refresh error = %v; want an oauth2.RetrieveError, HTTP 400, invalid_grant", err)
		}
	})
	tests := []struct {
		name       string
		edit       func(tg *target, form url.Values)
		wantStatus int
		wantError  string
	}{
		{
			name:       "unknown refresh token",
			edit:       func(tg *target, form url.Values) { form.Set("refresh_token", "1//contract-test-no-such-token") },
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
		{
			name:       "wrong client secret in the body",
			edit:       func(tg *target, form url.Values) { form.Set("client_secret", "GOCSPX-wrong") },
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
		},
		{
			name:       "unknown client",
			edit:       func(tg *target, form url.Values) { form.Set("client_id", "0-contract-test.apps.googleusercontent.com") },
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
		},
		{
			name:       "missing grant_type",
			edit:       func(tg *target, form url.Values) { form.Del("grant_type") },
			wantStatus: http.StatusBadRequest, wantError: "unsupported_grant_type",
		},
		{
			name:       "unknown grant_type",
			edit:       func(tg *target, form url.Values) { form.Set("grant_type", "password") },
			wantStatus: http.StatusBadRequest, wantError: "unsupported_grant_type",
		},
		{
			name: "authorization code that was never issued",
			edit: func(tg *target, form url.Values) {
				form.Del("refresh_token")
				form.Set("grant_type", "authorization_code")
				form.Set("code", "4/contract-test-no-such-code")
				form.Set("redirect_uri", "http://localhost:5000/callback")
				form.Set("code_verifier", verifier)
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_grant",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTarget(t)
			form := tg.refreshForm()
			tt.edit(tg, form)
			got := postForm(t, tg.tokenURL, form)
			if got.status != tt.wantStatus {
				t.Fatalf("%s answered %d; want %d\n%s", tg.name, got.status, tt.wantStatus, got.body)
			}
			wantJSON(t, tg, "token error", got)
			checkShape(t, tg, "token-error.json", got.body)
			if code, _ := field(t, got.body, "error").(string); code != tt.wantError {
				t.Errorf("%s: error = %q; want %q", tg.name, code, tt.wantError)
			}
		})
	}
	t.Run("code redeemed with another redirect URI", func(t *testing.T) {
		tg := newTarget(t)
		tg.sandboxOnly(t, "an authorization code takes a person at Google's consent screen")
		form := url.Values{
			"grant_type": {"authorization_code"}, "code": {consentCode(t, tg)}, "code_verifier": {verifier},
			"redirect_uri": {"http://127.0.0.1:9/elsewhere"}, "client_id": {tg.clientID}, "client_secret": {tg.clientSecret},
		}
		got := postForm(t, tg.tokenURL, form)
		if code, _ := field(t, got.body, "error").(string); got.status != http.StatusBadRequest || code != "redirect_uri_mismatch" {
			t.Errorf("%s answered %d %q; want 400 redirect_uri_mismatch\n%s", tg.name, got.status, code, got.body)
		}
	})
}

func TestRevocation(t *testing.T) {
	// webServerRef, "Revoking a token": 200 when the token is revoked, 400
	// with an error code otherwise; revoking either token of a grant ends
	// the whole grant.
	t.Run("a token Google never issued", func(t *testing.T) {
		tg := newTarget(t)
		got := postForm(t, tg.revokeURL, url.Values{"token": {"1//contract-test-no-such-token"}})
		if code, _ := field(t, got.body, "error").(string); got.status != http.StatusBadRequest || code != "invalid_token" {
			t.Errorf("%s: revoke unknown token = %d %q; want 400 invalid_token\n%s", tg.name, got.status, code, got.body)
		}
	})
	t.Run("the refresh token ends the grant", func(t *testing.T) {
		tg := newTarget(t)
		tg.sandboxOnly(t, "it would end the grant GOOGLE_REFRESH_TOKEN stands for, which only a person at the consent screen can give again")
		access := tg.token(t).AccessToken
		if got := postForm(t, tg.revokeURL, url.Values{"token": {tg.refreshToken}}); got.status != http.StatusOK {
			t.Fatalf("%s: revoke = %d; want 200\n%s", tg.name, got.status, got.body)
		}
		if got := postForm(t, tg.tokenURL, tg.refreshForm()); got.status != http.StatusBadRequest || field(t, got.body, "error") != "invalid_grant" {
			t.Errorf("%s: refresh after revocation = %d\n%s\nwant 400 invalid_grant", tg.name, got.status, got.body)
		}
		if got := tg.gmailGet(t, access, "/gmail/v1/users/me/profile"); got.status != http.StatusUnauthorized {
			t.Errorf("%s: Gmail with the grant's access token after revocation = %d; want 401", tg.name, got.status)
		}
	})
}
