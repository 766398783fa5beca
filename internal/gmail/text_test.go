package gmail

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParseAddress(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Address
	}{
		{"Japanese display name", "山田 太郎 <taro@example.jp>", Address{"山田 太郎", "taro@example.jp"}},
		{"encoded word B", "=?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>", Address{"山田太郎", "taro@example.jp"}},
		{"encoded word Q in ISO-8859-1", "=?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@example.be>", Address{"André Pirard", "pirard@example.be"}},
		{"adjacent encoded words join", "=?UTF-8?Q?Jos=C3=A9?= =?UTF-8?Q?_Mar=C3=ADa?= <jm@example.es>", Address{"José María", "jm@example.es"}},
		{"encoded word inside quotes", `"=?UTF-8?B?5bGx55Sw?=" <yamada@example.jp>`, Address{"山田", "yamada@example.jp"}},
		{"unknown charset kept raw", "=?KOI8-R?B?8NLJ18XU?= <ivan@example.ru>", Address{"=?KOI8-R?B?8NLJ18XU?=", "ivan@example.ru"}},
		{"unknown charset after a quoted word kept raw", `"Ivan" =?KOI8-R?B?8NLJ18XU?= <ivan@example.ru>`, Address{`"Ivan" =?KOI8-R?B?8NLJ18XU?=`, "ivan@example.ru"}},
		{"control character in a quoted name", "\"Bell\a Ringer\" <bell@example.com>", Address{"Bell Ringer", "bell@example.com"}},
		{"bare address", "alice@example.com", Address{"", "alice@example.com"}},
		{"address in brackets only", "<alice@example.com>", Address{"", "alice@example.com"}},
		{"quoted name with a comma", `"Doe, John" <john@example.com>`, Address{"Doe, John", "john@example.com"}},
		{"quoted name with escaped quotes", `"The \"Boss\"" <boss@example.com>`, Address{`The "Boss"`, "boss@example.com"}},
		{"first of several addresses", "alice@example.com, bob@example.com", Address{"", "alice@example.com"}},
		{"garbage", "not an address at all", Address{Name: "not an address at all"}},
		{"header injection is flattened", "evil\r\nBcc: victim@example.com", Address{Name: "evil Bcc: victim@example.com"}},
		{"empty", "", Address{}},
		{"invalid UTF-8", "Bad \xff\xfe <bad@example.com>", Address{"Bad \uFFFD", "bad@example.com"}},
		{"bidi override removed", "\u202Egnp.exe\u202C <x@example.com>", Address{"gnp.exe", "x@example.com"}},
		{"huge name bounded", strings.Repeat("a", 100_000) + " <x@example.com>", Address{Name: strings.Repeat("a", maxNameRunes-1) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseAddress(tt.raw); got != tt.want {
				t.Errorf("ParseAddress(%.80q) = %+v; want %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestDecodeHeader(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"plain", "Lunch on Friday?", "Lunch on Friday?"},
		{"encoded word B", "=?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN44Gn44GZ?=", "日本語の件名です"},
		{"encoded word Q with underscores", "=?utf-8?q?Caf=C3=A9_cr=C3=A8me?=", "Café crème"},
		{"mixed text and encoded words", "Re: =?UTF-8?B?5bGx55Sw?= meeting", "Re: 山田 meeting"},
		{"white space between encoded words is dropped", "=?UTF-8?Q?a?=  =?UTF-8?Q?b?=", "ab"},
		{"unknown charset kept raw", "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?="},
		{"unknown charset next to a known one", "=?UTF-8?Q?caf=C3=A9?= =?KOI8-R?B?8NLJ18XU?= x", "café =?KOI8-R?B?8NLJ18XU?= x"},
		{"malformed encoded word kept", "=?UTF-8?B?***?=", "=?UTF-8?B?***?="},
		{"folded header unfolded", "a long\r\n subject", "a long subject"},
		{"trimmed", "  \t padded \t ", "padded"},
		{"invalid UTF-8 replaced", "caf\xe9", "caf\uFFFD"},
		{"encoded invalid UTF-8 replaced", "=?UTF-8?B?/w==?=", "\uFFFD"},
		{"empty", "", ""},
		{"huge value bounded", strings.Repeat("x", 100_000), strings.Repeat("x", maxSubjectRunes-1) + "…"},
		{"cut at a rune, not a byte", strings.Repeat("日", 600), strings.Repeat("日", maxSubjectRunes-1) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeHeader(tt.raw); got != tt.want {
				t.Errorf("DecodeHeader(%.80q) = %.80q; want %.80q", tt.raw, got, tt.want)
			}
		})
	}
}

// checkDisplayText fails unless text is what the page may show: valid
// UTF-8, no control characters, at most maxRunes runes.
func checkDisplayText(t *testing.T, what, text string, maxRunes int) {
	t.Helper()
	if !utf8.ValidString(text) {
		t.Fatalf("%s = %q; want valid UTF-8", what, text)
	}
	if n := utf8.RuneCountInString(text); n > maxRunes {
		t.Fatalf("%s has %d runes; want at most %d", what, n, maxRunes)
	}
	if strings.ContainsFunc(text, unicode.IsControl) {
		t.Fatalf("%s = %q; want no control characters", what, text)
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, seed := range []string{
		"山田 太郎 <taro@example.jp>",
		"=?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>",
		"=?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@example.be>",
		"=?KOI8-R?B?8NLJ18XU?= <ivan@example.ru>",
		`"Doe, John" <john@example.com>`,
		"alice@example.com",
		"Bad \xff\xfe <bad@example.com>",
		"=?UTF-8?B?/w==?= <x@y>",
		"(comment) a@b (another)",
		"<<<>>>@@@",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		address := ParseAddress(raw)
		checkDisplayText(t, "ParseAddress().Name", address.Name, maxNameRunes)
		checkDisplayText(t, "ParseAddress().Email", address.Email, maxEmailRunes)
		checkDisplayText(t, "DecodeHeader()", DecodeHeader(raw), maxSubjectRunes)
	})
}
