package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

func TestRevoke(t *testing.T) {
	tests := []struct {
		name string
		// revoke sends the revocation request for tokens.
		revoke     func(t *testing.T, f *fixture, tokens tokenResponse) response
		wantStatus int
		wantError  string
		// wantRevoked says whether the grant is gone afterwards.
		wantRevoked bool
	}{
		{
			name: "refresh token in the body",
			revoke: func(t *testing.T, f *fixture, tokens tokenResponse) response {
				return f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.RefreshToken}})
			},
			wantStatus: http.StatusOK, wantRevoked: true,
		},
		{
			name: "access token in the body",
			revoke: func(t *testing.T, f *fixture, tokens tokenResponse) response {
				return f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.AccessToken}})
			},
			wantStatus: http.StatusOK, wantRevoked: true,
		},
		{
			name: "token in the query, as Google's docs show",
			revoke: func(t *testing.T, f *fixture, tokens tokenResponse) response {
				req, err := http.NewRequest(http.MethodPost, f.url+sandbox.RevokePath+"?token="+url.QueryEscape(tokens.RefreshToken), nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return f.do(t, req)
			},
			wantStatus: http.StatusOK, wantRevoked: true,
		},
		{
			name: "unknown token",
			revoke: func(t *testing.T, f *fixture, _ tokenResponse) response {
				return f.postForm(t, sandbox.RevokePath, url.Values{"token": {"ya29.sandbox.made-up"}})
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_token",
		},
		{
			name: "revoked twice",
			revoke: func(t *testing.T, f *fixture, tokens tokenResponse) response {
				f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.RefreshToken}})
				return f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.RefreshToken}})
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_token", wantRevoked: true,
		},
		{
			name: "expired access token",
			revoke: func(t *testing.T, f *fixture, tokens tokenResponse) response {
				f.clock.Advance(2 * time.Hour)
				return f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.AccessToken}})
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_token",
		},
		{
			name: "missing token",
			revoke: func(t *testing.T, f *fixture, _ tokenResponse) response {
				return f.postForm(t, sandbox.RevokePath, url.Values{})
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_request",
		},
		{
			name: "GET, which Google does not serve",
			revoke: func(t *testing.T, f *fixture, tokens tokenResponse) response {
				return f.get(t, sandbox.RevokePath+"?token="+url.QueryEscape(tokens.RefreshToken))
			},
			wantStatus: http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tokens := f.signIn(t, hanako)
			resp := tt.revoke(t, f, tokens)
			switch {
			case tt.wantError != "":
				wantOAuthError(t, resp, tt.wantStatus, tt.wantError)
			case tt.wantStatus == http.StatusOK:
				wantStatus(t, resp, tt.wantStatus)
				if got := strings.TrimSpace(string(resp.body)); got != "{}" {
					t.Errorf("body = %s; want {}", got)
				}
			default:
				wantStatus(t, resp, tt.wantStatus)
			}
			refresh := f.postForm(t, sandbox.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens.RefreshToken},
				"client_id": {clientID}, "client_secret": {clientSecret}})
			if revoked := refresh.status != http.StatusOK; revoked != tt.wantRevoked {
				t.Errorf("refresh after revocation = %d; want revoked = %v", refresh.status, tt.wantRevoked)
			}
			if got := f.sandbox.Stats().RevokeCalls; got < 1 {
				t.Errorf("Stats().RevokeCalls = %d; want at least 1", got)
			}
		})
	}
}

// TestRevokeRemovesTheAuthorization checks that revoking one token ends the
// app's access to the account, as removing it in the Google Account does:
// the tokens of every sign-in stop working, and the next sign-in asks for
// consent again and gets a refresh token again.
func TestRevokeRemovesTheAuthorization(t *testing.T) {
	f := newFixture(t)
	tokens := f.signIn(t, hanako)
	other := f.signIn(t, hanako)
	alexTokens := f.signIn(t, alex)
	if other.RefreshToken != "" {
		t.Fatalf("second sign-in got a refresh token; want none (Google issues one with the first grant only)")
	}
	wantStatus(t, f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.AccessToken}}), http.StatusOK)
	for name, token := range map[string]string{"revoked token": tokens.AccessToken, "second sign-in's token": other.AccessToken} {
		wantGoogleError(t, "GET profile with the "+name, f.gmail(t, token, "/gmail/v1/users/me/profile"),
			http.StatusUnauthorized, "UNAUTHENTICATED", "authError")
	}
	wantStatus(t, f.gmail(t, alexTokens.AccessToken, "/gmail/v1/users/me/profile"), http.StatusOK)
	if again := f.signIn(t, hanako); again.RefreshToken == "" {
		t.Errorf("sign-in after revocation got no refresh token; want one: the grant is new")
	}
}

func TestRevokeAccount(t *testing.T) {
	f := newFixture(t)
	viaFlow := f.signIn(t, hanako)
	issued := f.sandbox.IssueToken(hanako)
	alexTokens := f.sandbox.IssueToken(alex)
	f.sandbox.RevokeAccount(hanako)
	for name, token := range map[string]string{"signed-in token": viaFlow.AccessToken, "issued token": issued.AccessToken} {
		wantGoogleError(t, "GET profile with the "+name, f.gmail(t, token, "/gmail/v1/users/me/profile"),
			http.StatusUnauthorized, "UNAUTHENTICATED", "authError")
	}
	wantStatus(t, f.gmail(t, alexTokens.AccessToken, "/gmail/v1/users/me/profile"), http.StatusOK)
}
