package gmail

import (
	"io"
	"mime"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"gmailoauth/internal/encword"
)

const (
	// maxHeaderInputBytes bounds the work spent on one header value; the
	// bounded output needs far less input.
	maxHeaderInputBytes = 8 << 10
	maxNameRunes        = 200
	maxEmailRunes       = 320
	maxSubjectRunes     = 500
	maxSnippetRunes     = 500
	ellipsis            = "…"
)

// Address is a parsed mailbox, as shown in the From column.
type Address struct {
	Name  string // display name, decoded; "" for a bare address
	Email string // addr-spec, e.g. "a@example.com"; "" when unparseable
}

// ParseAddress parses a From header value: RFC 5322 via net/mail, with RFC
// 2047 encoded words decoded in any charset golang.org/x/text knows (words
// in other charsets are kept as they are). "山田 <a@b>" gives {山田, a@b}, a bare
// address gives Name "", and a value that is no address at all gives Name =
// the cleaned text. The result is valid UTF-8 without control characters,
// Name at most maxNameRunes runes and Email at most maxEmailRunes.
func ParseAddress(raw string) Address {
	raw = encword.Join(strings.ToValidUTF8(boundInput(raw), string(utf8.RuneError)))
	// net/mail drops or chokes on an encoded word in a charset it cannot
	// decode; noticing that sends the value down the path that keeps it.
	unknownCharset := false
	parser := mail.AddressParser{WordDecoder: &mime.WordDecoder{
		CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
			r, err := encword.CharsetReader(charset, input)
			unknownCharset = unknownCharset || err != nil
			return r, err
		},
	}}
	if list, err := parser.ParseList(raw); err == nil && len(list) > 0 && !unknownCharset {
		name := list[0].Name
		// Many mailers put encoded words inside quotes, where RFC 2047 does
		// not allow them and net/mail leaves them alone.
		if strings.Contains(name, "=?") {
			name = encword.Decode(name)
		}
		return newAddress(name, list[0].Address)
	}
	// Where net/mail gives up, the angle-bracketed address is still worth
	// showing.
	if name, email, ok := splitAngleAddress(raw); ok {
		return newAddress(encword.Decode(unquote(name)), email)
	}
	return Address{Name: boundText(cleanText(encword.Decode(raw)), maxNameRunes)}
}

func newAddress(name, email string) Address {
	return Address{
		Name:  boundText(cleanText(name), maxNameRunes),
		Email: boundText(cleanText(email), maxEmailRunes),
	}
}

// splitAngleAddress splits `name <addr>` when addr looks like an address.
func splitAngleAddress(raw string) (name, email string, ok bool) {
	raw = strings.TrimSpace(raw)
	open := strings.LastIndexByte(raw, '<')
	if open < 0 || !strings.HasSuffix(raw, ">") {
		return "", "", false
	}
	email = strings.TrimSpace(raw[open+1 : len(raw)-1])
	if !strings.Contains(email, "@") || strings.ContainsAny(email, " \t\r\n<>\"") {
		return "", "", false
	}
	return raw[:open], email, true
}

// unquote strips one level of RFC 5322 quoting from a display name.
func unquote(name string) string {
	name = strings.TrimSpace(name)
	if len(name) < 2 || name[0] != '"' || name[len(name)-1] != '"' {
		return name
	}
	name = name[1 : len(name)-1]
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(name)
}

// DecodeHeader decodes a header value such as a Subject for display: RFC
// 2047 encoded words as in ParseAddress, then valid UTF-8 without control
// characters, white space collapsed and trimmed, at most maxSubjectRunes
// runes ending in "…" when cut.
func DecodeHeader(raw string) string {
	return boundText(cleanText(encword.Decode(boundInput(raw))), maxSubjectRunes)
}

// boundInput cuts raw to maxHeaderInputBytes; a rune split at the end is
// repaired by the caller's UTF-8 cleaning.
func boundInput(raw string) string {
	if len(raw) > maxHeaderInputBytes {
		return raw[:maxHeaderInputBytes]
	}
	return raw
}

// cleanText makes s safe to show on one line: valid UTF-8, control
// characters and runs of white space turned into one space, invisible
// characters removed (bidirectional overrides can make a sender's name read
// as something else; zero-width ones make two names that look alike
// differ, or hide text), trimmed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	var out strings.Builder
	out.Grow(len(s))
	pendingSpace := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			pendingSpace = out.Len() > 0
		case isInvisible(r):
		default:
			if pendingSpace {
				out.WriteByte(' ')
				pendingSpace = false
			}
			out.WriteRune(r)
		}
	}
	return out.String()
}

// isInvisible reports whether r is drawn as nothing: a format character
// (Unicode category Cf: bidirectional controls, zero-width spaces, the word
// joiner, the byte order mark, the soft hyphen, the Mongolian vowel
// separator, tag characters, …) or another default-ignorable code point,
// such as a Hangul filler. Kept are those that change how the characters
// around them look: the zero-width joiner and non-joiner (emoji sequences;
// Persian and Indic words), variation selectors (VS16 emoji; the ideographic
// variants of kanji in Japanese names) and the Arabic number signs, which
// are drawn.
func isInvisible(r rune) bool {
	switch {
	case r == '\u200D' || r == '\u200C',
		unicode.Is(unicode.Variation_Selector, r),
		unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return false
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// boundText cuts s to at most maxRunes runes, the last being "…" when cut.
func boundText(s string, maxRunes int) string {
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	kept := 0
	for i := range s {
		if kept == maxRunes-1 {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace) + ellipsis
		}
		kept++
	}
	return s
}
