package oauth

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestExpiredStateIsPruned checks that codes and access tokens do not pile
// up under a long load test, while refresh tokens, which Google keeps until
// revoked, survive.
func TestExpiredStateIsPruned(t *testing.T) {
	const perRound = 3000
	now := time.Date(2025, time.November, 25, 9, 0, 0, 0, time.UTC)
	// The test is single-goroutine, so reading now needs no lock.
	s := newProvider(t, "http://127.0.0.1:8080/callback", func() time.Time { return now })

	// An account of its own for each grant: an account keeps only its
	// newest maxRefreshTokens (TestRefreshTokensPerAccountAndClientAreCapped).
	first := s.IssueToken("first0@example.com")
	for i := range perRound - 1 {
		s.IssueToken(fmt.Sprintf("first%d@example.com", i+1))
	}
	if got := len(s.tokens.access); got != perRound {
		t.Fatalf("after the first round the store holds %d access tokens; want %d (nothing has expired)", got, perRound)
	}

	now = now.Add(2 * time.Hour)
	for i := range perRound {
		s.IssueToken(fmt.Sprintf("second%d@example.com", i))
	}
	if got := len(s.tokens.access); got != perRound {
		t.Errorf("after the second round the store holds %d access tokens; want %d: the expired first round pruned, the live second kept", got, perRound)
	}
	if _, oerr := s.tokens.refreshAccess(first.RefreshToken, "client", nil, now); oerr != nil {
		t.Errorf("refresh with a token from the first round: %s; want it to survive pruning", oerr.description)
	}
}

// TestConsentStoreIsBounded floods the authorization endpoint as the
// security review did (4,000 GETs with a 60 KB state grew the process by
// 380 MB): overlong requests are refused before anything is stored, the
// store never holds more than its bound, and the first store after their
// time is up sweeps the expired entries.
func TestConsentStoreIsBounded(t *testing.T) {
	now := time.Date(2025, time.November, 25, 9, 0, 0, 0, time.UTC)
	const redirect = "http://127.0.0.1:8080/callback"
	s := newProvider(t, redirect, func() time.Time { return now })
	authorize := func(state string) int {
		query := url.Values{
			"client_id": {"client"}, "redirect_uri": {redirect}, "response_type": {"code"},
			"scope": {GmailScope}, "state": {state}, "code_challenge_method": {"S256"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		}
		w := httptest.NewRecorder()
		s.ServeAuthorize(w, httptest.NewRequest(http.MethodGet, AuthPath+"?"+query.Encode(), nil))
		return w.Code
	}
	pending := func() int {
		s.tokens.mu.Lock()
		defer s.tokens.mu.Unlock()
		return s.tokens.consents.len()
	}

	tests := []struct {
		name        string
		requests    int
		stateBytes  int
		wantStatus  int
		wantPending int
	}{
		{name: "60 KB state, refused", requests: 4000, stateBytes: 60 << 10, wantStatus: http.StatusRequestURITooLong, wantPending: 0},
		{name: "7 KB state, bounded", requests: 4000, stateBytes: 7 << 10, wantStatus: http.StatusOK, wantPending: maxPendingConsents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := strings.Repeat("s", tt.stateBytes)
			for i := range tt.requests {
				if got := authorize(state); got != tt.wantStatus {
					t.Fatalf("GET %s #%d with a %d-byte state = %d; want %d", AuthPath, i, tt.stateBytes, got, tt.wantStatus)
				}
			}
			if got := pending(); got != tt.wantPending {
				t.Errorf("pending consents = %d; want %d", got, tt.wantPending)
			}
		})
	}

	now = now.Add(s.codeTTL)
	if got := authorize("after expiry"); got != http.StatusOK {
		t.Fatalf("GET %s after expiry = %d; want 200", AuthPath, got)
	}
	if got := pending(); got != 1 {
		t.Errorf("pending consents after every earlier one expired = %d; want 1 (the new one)", got)
	}
}

// newProvider is a Provider for client "client" with secret "secret", one
// redirect URI, the sandbox's default lifetimes, and no accounts.
func newProvider(t *testing.T, redirectURI string, now func() time.Time) *Provider {
	t.Helper()
	p, err := New(Config{
		ClientID:       "client",
		ClientSecret:   "secret",
		RedirectURIs:   []string{redirectURI},
		AccessTokenTTL: time.Hour,
		CodeTTL:        5 * time.Minute,
		Now:            now,
		Logger:         slog.New(slog.DiscardHandler),
		Pages:          plainPages{},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// plainPages draws sign-in's pages as their status and a line of text: the
// tests of sign-in alone look at the status and the stores, not the page.
type plainPages struct{}

func (plainPages) Consent(w http.ResponseWriter, r *http.Request, consent Consent) {
	fmt.Fprintln(w, "consent", consent.ID)
}

func (plainPages) SignIn(w http.ResponseWriter, r *http.Request, next string) {
	fmt.Fprintln(w, "sign in, then", next)
}

func (plainPages) Error(w http.ResponseWriter, status int, page ErrorPage) {
	http.Error(w, page.Code+": "+page.Message, status)
}

func (plainPages) NotFound(w http.ResponseWriter, r *http.Request) {
	http.NotFound(w, r)
}
