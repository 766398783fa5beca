package sandbox

import (
	"testing"
	"time"
)

// TestExpiredStateIsPruned checks that consents, codes and access tokens do
// not pile up under a long load test, while refresh tokens, which Google
// keeps until revoked, survive.
func TestExpiredStateIsPruned(t *testing.T) {
	const perRound = 3000
	now := time.Date(2025, time.November, 25, 9, 0, 0, 0, time.UTC)
	s, err := New(Options{
		ClientID:     "client",
		ClientSecret: "secret",
		RedirectURIs: []string{"http://127.0.0.1:8080/callback"},
		// The test is single-goroutine, so reading now needs no lock.
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	store := func() Token {
		s.tokens.storeConsent(authRequest{}, now.Add(s.codeTTL), now)
		s.tokens.storeCode(&authCode{expiry: now.Add(s.codeTTL)}, now)
		return s.IssueToken(hanakoAddress)
	}

	first := store()
	for range perRound - 1 {
		store()
	}
	if got := storedEntries(&s.tokens); got != 3*perRound {
		t.Fatalf("after the first round the store holds %d entries; want %d (nothing has expired)", got, 3*perRound)
	}

	now = now.Add(2 * time.Hour)
	for range perRound {
		store()
	}
	if got := storedEntries(&s.tokens); got != 3*perRound {
		t.Errorf("after the second round the store holds %d entries; want %d: the expired first round pruned, the live second kept", got, 3*perRound)
	}
	if _, oerr := s.tokens.refreshAccess(first.RefreshToken, "client", nil, now); oerr != nil {
		t.Errorf("refresh with a token from the first round: %s; want it to survive pruning", oerr.description)
	}
}

// storedEntries counts the consents, codes and access tokens in st.
func storedEntries(st *tokenStore) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.consents) + len(st.codes) + len(st.access)
}
