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
		{"encoded word in KOI8-R", "=?KOI8-R?B?8NLJ18XU?= <ivan@example.ru>", Address{"Привет", "ivan@example.ru"}},
		{"encoded word in Shift_JIS", "=?Shift_JIS?B?ltiRuiCR8Zbn?= <takuya.kimura@example.jp>", Address{"木村 拓也", "takuya.kimura@example.jp"}},
		{"ISO-2022-JP split inside a character", "=?ISO-2022-JP?B?GyRCM3Q8MA==?= =?ISO-2022-JP?B?MnE8UiU1JXMlVyVrPiY7dhsoQg==?= <info@example.co.jp>",
			Address{"株式会社サンプル商事", "info@example.co.jp"}},
		{"split word in a list keeps the first address", "=?UTF-8?Q?=E6=97=A5=E6?= =?UTF-8?Q?=9C=AC=E8=AA=9E?= <a@example.jp>, b@example.jp", Address{"日本語", "a@example.jp"}},
		{"unknown charset kept raw", "=?x-unknown?B?8NLJ18XU?= <ivan@example.ru>", Address{"=?x-unknown?B?8NLJ18XU?=", "ivan@example.ru"}},
		{"unknown charset after a quoted word kept raw", `"Ivan" =?x-unknown?B?8NLJ18XU?= <ivan@example.ru>`, Address{`"Ivan" =?x-unknown?B?8NLJ18XU?=`, "ivan@example.ru"}},
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
		{"zero-width characters removed", "Pay\u200BPal\u2060 Se\u00ADcu\uFEFFrity\u180E <x@example.com>", Address{"PayPal Security", "x@example.com"}},
		{"tag characters removed", "Bank\U000E0069\U000E0067\U000E006E\U000E006F\U000E0072\U000E0065 <x@example.com>", Address{"Bank", "x@example.com"}},
		{"a name of Hangul fillers is no name", "\u3164\u3164 <x@example.com>", Address{"", "x@example.com"}},
		{"emoji joiner and presentation selector kept", "\U0001F469\u200D\U0001F4BB Dev \u2764\uFE0F <x@example.com>", Address{"\U0001F469\u200D\U0001F4BB Dev \u2764\uFE0F", "x@example.com"}},
		{"kanji variation selector kept", "\u845B\U000E0100\u98FE <katsushika@example.jp>", Address{"\u845B\U000E0100\u98FE", "katsushika@example.jp"}},
		{"Persian non-joiner kept", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645 <x@example.ir>", Address{"\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645", "x@example.ir"}},
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
		{"invisible characters removed", "Inv\u200Boice\u2060 \uFEFFdue \U000E0001\U000E0074\U000E0065\U000E0078\U000E0074", "Invoice due"},
		{"invisible characters in an encoded word removed", "=?UTF-8?Q?=E2=80=8Bpay=C2=ADment?=", "payment"},
		{"encoded word B", "=?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN44Gn44GZ?=", "日本語の件名です"},
		{"encoded word Q with underscores", "=?utf-8?q?Caf=C3=A9_cr=C3=A8me?=", "Café crème"},
		{"mixed text and encoded words", "Re: =?UTF-8?B?5bGx55Sw?= meeting", "Re: 山田 meeting"},
		{"white space between encoded words is dropped", "=?UTF-8?Q?a?=  =?UTF-8?Q?b?=", "ab"},
		{"unknown charset kept raw", "=?x-unknown?B?GyRCRnxLXDhsGyhC?=", "=?x-unknown?B?GyRCRnxLXDhsGyhC?="},
		{"unknown charset next to a known one", "=?UTF-8?Q?caf=C3=A9?= =?x-unknown?B?8NLJ18XU?= x", "café =?x-unknown?B?8NLJ18XU?= x"},
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

// TestDecodeHeaderCharsets decodes the charsets mail really uses. The
// encoded words were made with GNU iconv, not with the decoder under test.
func TestDecodeHeaderCharsets(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{name: "ISO-2022-JP", raw: "=?ISO-2022-JP?B?GyRCRy9LdkcvO08kTjFENkg7fjRWJE4kKkNOJGkkOxsoQg==?=", want: "年末年始の営業時間のお知らせ"},
		{name: "Shift_JIS", raw: "=?Shift_JIS?B?lr6T+oLMie+LY46Rl7+C8JGXlXSCtYLcgrc=?=", want: "明日の会議資料を送付します"},
		{name: "EUC-JP", raw: "=?EUC-JP?B?zrm51KTOvMy/v6TytqbNraS3pN6kuQ==?=", want: "旅行の写真を共有します"},
		{name: "GB18030", raw: "=?GB18030?B?vL62yLGouObS0bj80MI=?=", want: "季度报告已更新"},
		{name: "GBK", raw: "=?GBK?B?zfXOsA==?=", want: "王伟"},
		{name: "gb2312 label on GBK text", raw: "=?gb2312?B?vL62yLGouObS0bj80MI=?=", want: "季度报告已更新"},
		{name: "Big5", raw: "=?Big5?B?t3zEs6z2v/0=?=", want: "會議紀錄"},
		{name: "EUC-KR", raw: "=?EUC-KR?B?yLjAxyDAz8GkIL7Is7s=?=", want: "회의 일정 안내"},
		{name: "ks_c_5601-1987 label (Outlook)", raw: "=?ks_c_5601-1987?B?sei5zsHY?=", want: "김민준"},
		{name: "KOI8-R", raw: "=?KOI8-R?B?8NLJ18XUIMnaIO3P08vX2Q==?=", want: "Привет из Москвы"},
		{name: "Windows-1251", raw: "=?windows-1251?B?zvL3uPIg5+Ag7e7/4fD8?=", want: "Отчёт за ноябрь"},
		{name: "ISO-8859-2", raw: "=?ISO-8859-2?B?U3BvdGthbmllIHcgtnJvZOo=?=", want: "Spotkanie w środę"},
		{name: "Windows-1252", raw: "=?windows-1252?B?Uul1bmlvbjogNSCAIGxlIGNhZuk=?=", want: "Réunion: 5 € le café"},
		{name: "ISO-8859-15 in Q", raw: "=?iso-8859-15?q?=BCuvre_=E0_5_=A4?=", want: "Œuvre à 5 €"},
		{name: "charset with an RFC 2231 language", raw: "=?ISO-2022-JP*ja?B?GyRCRnxLXDhsGyhC?=", want: "日本語"},
		{name: "ISO-2022-JP split inside a character",
			raw:  "=?ISO-2022-JP?B?GyRCIVokNDBGRg==?= =?ISO-2022-JP?B?YiFbRy9LdkcvO08kTjFENkg7fjRWJEskRCQkJEYbKEI=?=",
			want: "【ご案内】年末年始の営業時間について"},
		{name: "ISO-2022-JP split inside a character in Q", raw: "=?iso-2022-jp?Q?=1B=24B=3B?=\r\n =?iso-2022-jp?Q?3ED=1B=28B?=", want: "山田"},
		{name: "Shift_JIS split inside a character", raw: "=?Shift_JIS?B?lr6T+oI=?= =?Shift_JIS?B?zInvi2OOkZe/gvCRl5V0grWC3IK3?=", want: "明日の会議資料を送付します"},
		{name: "UTF-8 split inside a character",
			raw:  "=?UTF-8?B?5pel5pys6Ko=?= =?UTF-8?B?nuOBruS7tuWQjeOBjOS6jOOBpOOBruiqnuOBq+WIhuOBi+OCjOOCiw==?=",
			want: "日本語の件名が二つの語に分かれる"},
		{name: "words with one charset in both encodings", raw: "=?UTF-8?Q?=E6=97=A5?= =?UTF-8?B?5pys?=", want: "日本"},
		{name: "text between words keeps them apart", raw: "=?UTF-8?B?5pel5pys6Ko=?= x =?UTF-8?B?nuOBrg==?=", want: "日本\uFFFD x \uFFFDの"},
		{name: "charset the index knows without a decoder", raw: "=?UTF-7?B?K1plVmlzLQ==?=", want: "=?UTF-7?B?K1plVmlzLQ==?="},
		{name: "broken charset label", raw: "Re: =?unknown-8bit?Q?Caf=E9?= menu", want: "Re: =?unknown-8bit?Q?Caf=E9?= menu"},
		{name: "broken base64 in a split word kept raw", raw: "=?Shift_JIS?B?lr6T+oI=?= =?Shift_JIS?B?***?=", want: "明日\uFFFD =?Shift_JIS?B?***?="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeHeader(tt.raw); got != tt.want {
				t.Errorf("DecodeHeader(%.80q) = %q; want %q", tt.raw, got, tt.want)
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
