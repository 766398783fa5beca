package gmail

import (
	"mime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// mustVanish lists, by code point rather than by Unicode's tables, the
// characters that must never reach the page: bidirectional controls, and
// the invisible ones used to make names look alike or to hide text.
func mustVanish(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C: // bidi
		return true
	case r == 0x200B, r >= 0x2060 && r <= 0x2064, r == 0xFEFF, r == 0x00AD, r == 0x180E, r == 0x3164, r == 0x034F:
		return true
	case r >= 0xE0000 && r <= 0xE007F: // tag characters
		return true
	}
	return false
}

// displayed is what a header value should look like on the page, worked
// out independently of cleanText: default-ignorable characters gone but for
// the joiners, variation selectors and drawn number signs, control
// characters as spaces, white space collapsed and trimmed.
func displayed(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case mustVanish(r):
			return -1
		case unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point) &&
			!unicode.In(r, unicode.Variation_Selector, unicode.Prepended_Concatenation_Mark) && r != 0x200C && r != 0x200D:
			return -1
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	return strings.Join(strings.Fields(s), " ")
}

// checkBoundedAs checks that got is want, or want cut to maxRunes with an
// ellipsis.
func checkBoundedAs(t *testing.T, what, got, want string, maxRunes int) {
	t.Helper()
	if utf8.RuneCountInString(want) <= maxRunes {
		if got != want {
			t.Fatalf("%s = %q; want %q", what, got, want)
		}
		return
	}
	kept, cut := strings.CutSuffix(got, ellipsis)
	if !cut || !strings.HasPrefix(want, kept) {
		t.Fatalf("%s = %.200q; want a prefix of %.200q ending in %q", what, got, want, ellipsis)
	}
}

// FuzzDecodeHeader checks what DecodeHeader makes of any Subject: text that
// is safe to show (valid UTF-8, no control, bidirectional or invisible characters,
// single spaces, trimmed, bounded); plain text kept as it is; and any text
// Gmail sends as RFC 2047 encoded words decoded back to itself.
func FuzzDecodeHeader(f *testing.F) {
	for _, seed := range []string{
		"Lunch tomorrow?",
		"=?UTF-8?B?44GU54Sh5rKZ5rGw44GX44Gm44GK44KK44G+44GZ?=",
		"=?UTF-8?Q?Caf=C3=A9_au_lait?= =?UTF-8?Q?_et_croissant?=",
		"=?ISO-8859-1?Q?Andr=E9?= is here",
		"=?KOI8-R?B?8NLJ18XU?=",
		"=?ISO-2022-JP?B?GyRCIVokNDBGRg==?= =?ISO-2022-JP?B?YiFbRy9LdkcvO08kTjFENkg7fjRWJEskRCQkJEYbKEI=?=",
		"=?x-unknown?B?8NLJ18XU?= =?Shift_JIS?B?***?=",
		"=?UTF-8?B?/w==?=",
		"=?UTF-8?Q?=E2=80=AEtxt.exe?=",
		"=?utf-8?b?" + strings.Repeat("QUFB", 180) + "?=", // over maxSubjectRunes once decoded
		"Re:\r\n\tfolded\x00subject\u202e",
		"pay\u200bpal \ufeffinvoice\u00ad \U000E0041\U000E0042 \U0001F469\u200D\U0001F4BB \u2764\uFE0F",
		"  many   spaces\u3000and\u00a0others  ",
		"\xff\xfe invalid \xc3",
		"=?UTF-8?B?",
		"=??=",
		strings.Repeat("長い件名 ", 101),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := DecodeHeader(raw)
		checkDisplayText(t, "DecodeHeader()", got, maxSubjectRunes)
		if strings.ContainsFunc(got, mustVanish) {
			t.Fatalf("DecodeHeader(%.200q) = %.200q; want no bidirectional or invisible characters", raw, got)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") ||
			strings.ContainsFunc(got, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' }) {
			t.Fatalf("DecodeHeader(%.200q) = %.200q; want single spaces, trimmed", raw, got)
		}

		// Without encoded words there is nothing to decode: the text only
		// loses what cannot be shown.
		if !strings.Contains(raw, "=?") && len(raw) <= maxHeaderInputBytes {
			checkBoundedAs(t, "DecodeHeader(plain text)", got, displayed(raw), maxSubjectRunes)
		}

		// Any text survives being sent as encoded words.
		if !utf8.ValidString(raw) || strings.Contains(raw, "=?") {
			return
		}
		for _, enc := range []mime.WordEncoder{mime.BEncoding, mime.QEncoding} {
			encoded := enc.Encode("UTF-8", raw)
			if len(encoded) > maxHeaderInputBytes {
				continue
			}
			checkBoundedAs(t, "DecodeHeader("+string(rune(enc))+"-encoded)", DecodeHeader(encoded), displayed(raw), maxSubjectRunes)
		}
	})
}
