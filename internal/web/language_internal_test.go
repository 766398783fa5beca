package web

import (
	"strconv"
	"strings"
	"testing"

	"gmailoauth/internal/i18n"
)

// TestProblemTexts checks that every error page has its heading, its
// explanation and its action in both languages.
func TestProblemTexts(t *testing.T) {
	problems := []problem{
		problemNotFound, problemMethod, problemRevokeFailed, problemCrossOrigin, problemBadState, problemBadRequest, problemTooLarge, problemFormType, problemTooFast,
		problemStalePage, problemCodeRejected, problemScopeMissing, problemForbidden,
		problemRateLimited, problemGmailDown, problemGoogleDown, problemSignInRefused, problemRenewalRefused, problemInternal,
	}
	for _, p := range problems {
		for _, lang := range i18n.Langs {
			for _, key := range []string{p.Key, p.Key + ".detail", p.Action.Label} {
				if text, err := catalogue.Text(lang, key); err != nil || text == "" {
					t.Errorf("%s page: %s text of %q = %q, %v; want a text", p.Key, lang, key, text, err)
				}
			}
		}
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct{ next, want string }{
		{next: "/", want: "/"},
		{next: "/home?page=T2&trail=T1", want: "/home?page=T2&trail=T1"},
		{next: "", want: "/"},
		{next: "home", want: "/"},
		{next: "//evil.example/", want: "/"},
		{next: "/\\evil.example/", want: "/"},
		{next: "https://evil.example/", want: "/"},
		{next: "javascript:alert(1)", want: "/"},
		{next: "/\r\nSet-Cookie: x=y", want: "/"},
		{next: "/" + strings.Repeat("a", maxNextLen), want: "/"},
	}
	for _, tt := range tests {
		if got := localPath(tt.next); got != tt.want {
			t.Errorf("localPath(%.40q) = %q; want %q", tt.next, got, tt.want)
		}
	}
}

func TestNoticeText(t *testing.T) {
	tests := []struct {
		key  string
		lang i18n.Lang
		want string
	}{
		{key: noticeExpired, lang: i18n.Japanese, want: "Google のログインの有効期限が切れたか、アクセスが取り消されました。メールを見るには、もう一度接続してください。"},
		{key: noticeLifetime, lang: i18n.English, want: "You have been connected for 30 days, as long as a session lasts. Connect again to see your mail."},
		{key: noticeLifetime, lang: i18n.Japanese, want: "接続から30日が経ち、セッションの有効期間が終わりました。メールを見るには、もう一度接続してください。"},
		{key: "You were signed out.", lang: i18n.English, want: ""},
	}
	for _, tt := range tests {
		if got := noticeText(tt.lang, tt.key); got != tt.want {
			t.Errorf("noticeText(%s, %q) = %q; want %q", tt.lang, tt.key, got, tt.want)
		}
	}
}

// TestTextsNameThePageSize checks that the texts naming how many messages
// a page shows name pageSize. They hold the number itself: the English
// pager words name none, and a catalogue text takes the same arguments in
// every language.
func TestTextsNameThePageSize(t *testing.T) {
	size := strconv.Itoa(pageSize)
	for _, tt := range []struct {
		lang i18n.Lang
		key  string
	}{
		{lang: i18n.English, key: "index.step3"},
		{lang: i18n.Japanese, key: "index.step3"},
		{lang: i18n.Japanese, key: "inbox.newer"},
		{lang: i18n.Japanese, key: "inbox.older"},
	} {
		text, err := catalogue.Text(tt.lang, tt.key)
		if err != nil || !strings.Contains(text, size) {
			t.Errorf("%s text of %q = %q, %v; want it to name the page size, %s", tt.lang, tt.key, text, err, size)
		}
	}
}
