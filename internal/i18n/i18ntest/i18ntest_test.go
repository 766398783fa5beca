package i18ntest

import (
	"slices"
	"testing"

	"gmailoauth/internal/i18n"
)

func TestUntranslated(t *testing.T) {
	c := i18n.Catalogue{
		i18n.English:  {"lede": "Sign in to see your mail.", "count": "About %s unread", "id": "ID", "short": "Yesterday"},
		i18n.Japanese: {"lede": "ログインしてメールを見る。", "count": "未読 約%s件", "id": "ID", "short": "昨日"},
	}
	tests := []struct {
		name, page string
		want       []string
	}{
		{name: "all Japanese", page: "ログインしてメールを見る。 未読 約75件 ID 昨日"},
		{name: "an English sentence left", page: "Sign in to see your mail. 未読 約75件", want: []string{"Sign in to see your mail."}},
		{name: "a text with a verb", page: "About 75 unread", want: []string{"About %s unread"}},
		{name: "single words are not sentences", page: "Yesterday"},
	}
	for _, tt := range tests {
		if got := Untranslated(c, i18n.Japanese, tt.page); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Untranslated(%q) = %q; want %q", tt.name, tt.page, got, tt.want)
		}
	}
}
