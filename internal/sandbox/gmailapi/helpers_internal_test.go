package gmailapi

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"gmailoauth/internal/sandbox/mailstore"
	"gmailoauth/internal/sandbox/oauth"
)

// hanakoAddress is the first seeded account, with the richest mailbox.
const hanakoAddress = "hanako.yamada@example.jp"

// testAPI is the API over freshly seeded mailboxes, with the sign-in that
// issues its tokens, served as the sandbox routes it: the tests of the API
// alone.
type testAPI struct {
	*API
	signIn *oauth.Provider
	mux    *http.ServeMux
}

func newTestAPI(tb testing.TB) *testAPI {
	tb.Helper()
	logger := slog.New(slog.DiscardHandler)
	signIn, err := oauth.New(oauth.Config{
		ClientID: "client", ClientSecret: "secret", RedirectURIs: []string{"http://127.0.0.1:8080/callback"},
		AccessTokenTTL: time.Hour, CodeTTL: 5 * time.Minute, Now: time.Now, Logger: logger,
	})
	if err != nil {
		tb.Fatalf("oauth.New: %v", err)
	}
	s := &testAPI{
		API:    New(Config{Now: time.Now, Logger: logger, Store: mailstore.NewStore(time.Now()), Tokens: signIn}),
		signIn: signIn,
		mux:    http.NewServeMux(),
	}
	s.mux.Handle("/gmail/", s.Gmail())
	s.mux.Handle("/batch", s.Batch())
	s.mux.Handle(batchPath, s.Batch())
	return s
}

// batchPath is the sandbox's GmailBatchPath.
const batchPath = "/batch/gmail/v1"

// IssueToken mints an access token for account, as the sandbox's does.
func (s *testAPI) IssueToken(account string, scopes ...string) oauth.Token {
	return s.signIn.IssueToken(account, scopes...)
}

// ServeHTTP serves the Gmail methods and batches.
func (s *testAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}
