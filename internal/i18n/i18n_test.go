package i18n

import (
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name, acceptLanguage string
		want                 Lang
	}{
		{name: "no header", acceptLanguage: "", want: English},
		{name: "Japanese", acceptLanguage: "ja", want: Japanese},
		{name: "Japanese in Japan", acceptLanguage: "ja-JP", want: Japanese},
		{name: "Japanese first, English next", acceptLanguage: "ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", want: Japanese},
		{name: "English first, Japanese next", acceptLanguage: "en-US,en;q=0.9,ja;q=0.8", want: English},
		{name: "British English", acceptLanguage: "en-GB", want: English},
		{name: "weights, not order, decide", acceptLanguage: "en;q=0.5, ja;q=0.9", want: Japanese},
		{name: "unoffered first, Japanese next", acceptLanguage: "fr-FR,fr;q=0.9,ja;q=0.8", want: Japanese},
		{name: "nothing offered", acceptLanguage: "fr-FR,de;q=0.8", want: English},
		{name: "Japanese refused", acceptLanguage: "ja;q=0, fr", want: English},
		{name: "any language", acceptLanguage: "*", want: English},
		{name: "malformed", acceptLanguage: "ja;q=abc;;", want: English},
		{name: "case-insensitive", acceptLanguage: "JA-jp", want: Japanese},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate(tt.acceptLanguage); got != tt.want {
				t.Errorf("Negotiate(%q) = %q; want %q", tt.acceptLanguage, got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in     string
		want   Lang
		wantOK bool
	}{
		{in: "en", want: English, wantOK: true},
		{in: "ja", want: Japanese, wantOK: true},
		{in: "ja-JP", wantOK: false},
		{in: "fr", wantOK: false},
		{in: "", wantOK: false},
	} {
		if got, ok := Parse(tt.in); got != tt.want || ok != tt.wantOK {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestWrittenIn(t *testing.T) {
	tests := []struct {
		name, text string
		page       Lang
		want       Lang
	}{
		{name: "hiragana in an English page", text: "会議の件", page: English, want: Japanese},
		{name: "katakana in an English page", text: "Amazon.co.jp ご注文の確認", page: English, want: Japanese},
		{name: "half-width katakana", text: "ｾｰﾙ 50% OFF", page: English, want: Japanese},
		{name: "kana in a Japanese page", text: "会議の件", page: Japanese, want: ""},
		{name: "English", text: "Your order has shipped", page: English, want: ""},
		{name: "kanji alone may be Chinese", text: "会議室", page: English, want: ""},
		{name: "the long-vowel mark alone is no kana", text: "ー", page: English, want: ""},
		{name: "Japanese punctuation alone", text: "「」、。", page: English, want: ""},
		{name: "empty", text: "", page: English, want: ""},
	}
	for _, tt := range tests {
		if got := WrittenIn(tt.text, tt.page); got != tt.want {
			t.Errorf("%s: WrittenIn(%q, %q) = %q; want %q", tt.name, tt.text, tt.page, got, tt.want)
		}
	}
}

func TestCatalogue(t *testing.T) {
	c := Catalogue{
		English:  {"hello": "Hello, %s", "unread.one": "%s message", "unread.other": "%s messages"},
		Japanese: {"hello": "こんにちは、%sさん", "unread.one": "%s件", "unread.other": "%s件"},
	}
	tests := []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{name: "text", got: func() (string, error) { return c.Text(Japanese, "hello", "花子") }, want: "こんにちは、花子さん"},
		{name: "one", got: func() (string, error) { return c.Plural(English, "unread", 1) }, want: "1 message"},
		{name: "other", got: func() (string, error) { return c.Plural(English, "unread", 12345) }, want: "12,345 messages"},
		{name: "zero is other", got: func() (string, error) { return c.Plural(English, "unread", 0) }, want: "0 messages"},
		{name: "Japanese count", got: func() (string, error) { return c.Plural(Japanese, "unread", 1000) }, want: "1,000件"},
	}
	for _, tt := range tests {
		got, err := tt.got()
		if err != nil || got != tt.want {
			t.Errorf("%s = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := c.Text(English, "missing"); err == nil {
		t.Errorf("Text(en, missing) gave no error")
	}
}

func TestNumber(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 75: "75", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := Number(n); got != want {
			t.Errorf("Number(%d) = %q; want %q", n, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		c       Catalogue
		wantErr string
	}{
		{name: "complete", c: Catalogue{English: {"a": "A %s"}, Japanese: {"a": "エー%s"}}},
		{name: "no Japanese", c: Catalogue{English: {"a": "A"}}, wantErr: `no "ja" texts`},
		{name: "key missing in Japanese", c: Catalogue{English: {"a": "A", "b": "B"}, Japanese: {"a": "エー"}}, wantErr: `"b" has no "ja" text`},
		{name: "key missing in English", c: Catalogue{English: {"a": "A"}, Japanese: {"a": "エー", "b": "ビー"}}, wantErr: `"b" has a "ja" text but no English one`},
		{name: "verbs differ", c: Catalogue{English: {"a": "%s of %d"}, Japanese: {"a": "%d件"}}, wantErr: `verbs "%d"; English has "%s%d"`},
	}
	for _, tt := range tests {
		err := tt.c.Check()
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: Check() = %v; want %q", tt.name, err, tt.wantErr)
		}
	}
}
