package gmailapi

import (
	"gmailoauth/internal/sandbox/oauth"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestFieldsAreCheckedBeforeTheMailboxLock: a call whose parameters are
// wrong answers 400 without waiting for its mailbox, so a slow or hostile
// parameter never holds the mailbox from the account's other calls. The
// test holds the mailbox's lock throughout: a call that took it would never
// answer.
func TestFieldsAreCheckedBeforeTheMailboxLock(t *testing.T) {
	s := newTestAPI(t)
	token := s.IssueToken(hanakoAddress, oauth.GmailModifyScope).AccessToken
	box := s.store.Mailbox(hanakoAddress)
	box.Mu.Lock()
	defer box.Mu.Unlock()
	for _, tt := range []struct{ method, path, body string }{
		{http.MethodGet, "/gmail/v1/users/me/profile?fields=" + url.QueryEscape(strings.Repeat("a(", 5000)), ""},
		{http.MethodGet, "/gmail/v1/users/me/messages?fields=nosuch", ""},
		{http.MethodGet, "/gmail/v1/users/me/messages?pageToken=00100123456789012345", ""},
		{http.MethodGet, "/gmail/v1/users/me/history?startHistoryId=1&pageToken=1", ""},
		{http.MethodPost, "/gmail/v1/users/me/messages/0000000000000001/modify?fields=id(", `{"removeLabelIds":["UNREAD"]}`},
	} {
		req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp := httptest.NewRecorder()
		s.ServeHTTP(resp, req)
		if resp.Code != http.StatusBadRequest {
			t.Errorf("%s %.80s = %d; want 400\n%s", tt.method, tt.path, resp.Code, resp.Body)
		}
	}
}
