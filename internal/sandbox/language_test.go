package sandbox_test

import (
	"bytes"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"gmailoauth/internal/i18n"
	"gmailoauth/internal/i18n/i18ntest"
	"gmailoauth/internal/sandbox"
)

var tag = regexp.MustCompile(`<[^>]*>`)

// pageText is the text of an HTML page as a person reads it: a <wbr>
// joins the words beside it, other tags part them.
func pageText(body []byte) string {
	joined := strings.ReplaceAll(string(body), "<wbr>", "")
	return html.UnescapeString(tag.ReplaceAllString(joined, " "))
}

// TestPagesFollowTheBrowsersLanguage checks the two pages a person meets,
// consent and message, in Japanese and English as Accept-Language asks.
func TestPagesFollowTheBrowsersLanguage(t *testing.T) {
	f := newFixture(t)
	f.signInToGoogle(t, hanako) // for the message page
	token := f.sandbox.IssueToken(hanako).AccessToken
	nakamura := f.findMessage(t, token, subjectIs("ご無沙汰しております")).ID
	consentPath := sandbox.AuthPath + "?" + authParams().Encode()
	messagePath := "/mail/u/0/message/" + nakamura
	tests := []struct {
		name, path, acceptLanguage string
		wantLang                   string
		wantContains               []string
	}{
		{name: "consent in Japanese", path: consentPath, acceptLanguage: "ja-JP,ja;q=0.9", wantLang: "ja",
			wantContains: []string{"アカウントの選択", "メールのメッセージと設定の表示", "許可", "キャンセル",
				"このアカウントで初めて許可したときにリフレッシュトークンが発行され", "どちらを選んでも、"}},
		{name: "consent in English", path: consentPath, acceptLanguage: "en-US", wantLang: "en",
			wantContains: []string{"Choose an account", "View your email messages and settings", "Allow", "Deny"}},
		{name: "consent without Accept-Language", path: consentPath, wantLang: "en", wantContains: []string{"Choose an account"}},
		{name: "message in Japanese", path: messagePath, acceptLanguage: "ja", wantLang: "ja",
			wantContains: []string{"差出人", "宛先", "日時", "中村 太郎", "読み取り専用のコピー", "受信トレイ", "未読", "メイン"}},
		{name: "message in English", path: messagePath, acceptLanguage: "en", wantLang: "en",
			wantContains: []string{"From", "Read-only copy in the mailbox of", "Inbox", "Unread", "Primary"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, f.url+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.acceptLanguage != "" {
				req.Header.Set("Accept-Language", tt.acceptLanguage)
			}
			resp := f.do(t, req)
			wantStatus(t, resp, http.StatusOK)
			if want := `<html lang="` + tt.wantLang + `">`; !bytes.Contains(resp.body, []byte(want)) {
				t.Errorf("GET %s lacks %s", tt.path, want)
			}
			text := pageText(resp.body)
			for _, want := range tt.wantContains {
				if !strings.Contains(text, want) {
					t.Errorf("GET %s (Accept-Language %q) lacks %q", tt.path, tt.acceptLanguage, want)
				}
			}
			for _, id := range []string{"INBOX", "UNREAD", "CATEGORY_PERSONAL"} {
				if strings.Contains(text, id) {
					t.Errorf("GET %s shows the label ID %s, not its name", tt.path, id)
				}
			}
			if tt.wantLang == "ja" {
				if left := i18ntest.Untranslated(sandbox.Catalogue, i18n.Japanese, text); len(left) > 0 {
					t.Errorf("GET %s in Japanese shows English: %q", tt.path, left)
				}
			}
		})
	}
}
