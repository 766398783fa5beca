package sandbox_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"gmailoauth/internal/sandbox"
)

// TestMailboxIsBounded: inserts fill a mailbox up to its bound, then get
// the error Google sends when an account's storage is full, and the
// refused insert changes nothing. Gmail's "Resolve errors" guide
// (developers.google.com/gmail/api/guides/handle-errors) names no error of
// its own for it; the storage is shared with Drive, whose answer to a full
// one is 403 with reason storageQuotaExceeded ("The user's Drive storage
// quota has been exceeded.").
func TestMailboxIsBounded(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako, sandbox.GmailInsertScope, sandbox.GmailScope).AccessToken
	// 2.5 MB of text, kept twice (raw and decoded), under the 4 MiB a
	// request may carry once in base64.
	raw := "From: Test <test@example.com>\r\nSubject: Big\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 2_500_000/18)
	body := `{"raw":"` + base64.URLEncoding.EncodeToString([]byte(raw)) + `"}`
	total := func() int {
		t.Helper()
		var profile struct{ MessagesTotal int }
		f.gmail(t, token, "/gmail/v1/users/me/profile").decode(t, &profile)
		return profile.MessagesTotal
	}
	before := total()
	// 16 MiB hold three such messages; the bound must come well before 20.
	for i := range 20 {
		req, err := http.NewRequest(http.MethodPost, f.url+listPath, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp := f.do(t, req)
		if resp.status == http.StatusOK {
			continue
		}
		wantGoogleError(t, "messages.insert into a full mailbox", resp, http.StatusForbidden, "PERMISSION_DENIED", "storageQuotaExceeded")
		if i == 0 {
			t.Fatal("the first insert was refused; the bound leaves no room")
		}
		if got := total(); got != before+i {
			t.Errorf("messagesTotal after %d inserts and a refused one = %d; want %d", i, got, before+i)
		}
		return
	}
	t.Fatalf("20 inserts of %d bytes were all taken; want the mailbox bounded", len(raw))
}
