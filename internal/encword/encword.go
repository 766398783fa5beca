// Package encword decodes RFC 2047 encoded words ("=?ISO-2022-JP?B?…?=")
// in mail headers, in every charset golang.org/x/text knows, joining words
// that a mailer cut inside a character. The app's Gmail client and the
// sandbox's message page both show headers through it.
package encword

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/ianaindex"
)

// wordDecoder decodes encoded words in every charset of
// golang.org/x/text's IANA index, which covers what mail really uses:
// ISO-2022-JP, Shift_JIS, EUC-JP, GB18030, GBK, Big5, EUC-KR, the ISO-8859
// and Windows-125x families, KOI8-R and KOI8-U.
var wordDecoder = &mime.WordDecoder{CharsetReader: CharsetReader}

// charsetAliases are labels real mailers send for which the IANA index has
// a name but no decoder, mapped to the superset that decodes them, as the
// WHATWG Encoding Standard (and so every browser) maps them.
var charsetAliases = map[string]string{
	"gb2312":         "GBK",       // GBK extends GB2312; mailers label GBK mail gb2312
	"ks_c_5601-1987": "EUC-KR",    // Outlook's label for EUC-KR
	"windows-31j":    "Shift_JIS", // x/text's Shift_JIS has Microsoft's extensions
	"big5-hkscs":     "Big5",      // x/text's Big5 includes HKSCS
}

// CharsetReader is for mime.WordDecoder's CharsetReader. A charset the
// index does not know, or knows without a decoder, is an error, so the word
// is shown as it came rather than guessed at.
func CharsetReader(label string, input io.Reader) (io.Reader, error) {
	enc, err := lookupCharset(label)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}

func lookupCharset(label string) (encoding.Encoding, error) {
	// RFC 2231 lets a charset carry a language: "ISO-2022-JP*ja".
	label, _, _ = strings.Cut(label, "*")
	if alias, ok := charsetAliases[strings.ToLower(label)]; ok {
		label = alias
	}
	enc, err := ianaindex.MIME.Encoding(label)
	if err == nil && enc == nil {
		err = fmt.Errorf("no decoder")
	}
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", label, err)
	}
	return enc, nil
}

// encodedWord is one RFC 2047 encoded word, "=?charset?encoding?text?=", at
// s[start:end] of the value it was found in.
type encodedWord struct {
	start, end              int
	charset, encoding, text string
}

// findEncodedWords returns the encoded words in s, in order. Like
// mime.WordDecoder.DecodeHeader it finds them wherever they are, also
// against other text; unlike it, a word may not contain white space.
func findEncodedWords(s string) []encodedWord {
	var words []encodedWord
	for from := 0; ; {
		i := strings.Index(s[from:], "=?")
		if i < 0 {
			return words
		}
		start := from + i
		w, ok := parseEncodedWord(s, start)
		if !ok {
			from = start + 2
			continue
		}
		words = append(words, w)
		from = w.end
	}
}

// parseEncodedWord parses the encoded word that begins at s[start].
func parseEncodedWord(s string, start int) (encodedWord, bool) {
	rest := s[start+2:]
	charset, rest, ok := strings.Cut(rest, "?")
	if !ok || charset == "" || len(rest) < 2 || rest[1] != '?' {
		return encodedWord{}, false
	}
	enc := rest[:1]
	text, _, ok := strings.Cut(rest[2:], "?=")
	if !ok || strings.ContainsAny(charset+text, " \t\r\n?") {
		return encodedWord{}, false
	}
	end := start + 2 + len(charset) + 3 + len(text) + 2
	return encodedWord{start: start, end: end, charset: charset, encoding: enc, text: text}, true
}

// Join rewrites each run of encoded words that are separated
// by white space only and share charset and encoding into one word. A
// mailer that cuts a long header into words may cut inside a character —
// an ISO-2022-JP escape sequence, a Shift_JIS pair, a UTF-8 sequence — and
// mime.WordDecoder decodes each word on its own, so only the joined bytes
// decode right. The result still consists of ASCII encoded words, so it
// can go through net/mail's address parser.
func Join(s string) string {
	words := findEncodedWords(s)
	if len(words) < 2 {
		return s
	}
	var out strings.Builder
	pos := 0
	for i := 0; i < len(words); {
		run := i + 1
		for run < len(words) && joinable(s, words[run-1], words[run]) {
			run++
		}
		out.WriteString(s[pos:words[i].start])
		if joined, ok := joinWords(words[i:run]); ok && run-i > 1 {
			out.WriteString(joined)
		} else {
			out.WriteString(s[words[i].start:words[run-1].end])
		}
		pos = words[run-1].end
		i = run
	}
	out.WriteString(s[pos:])
	return out.String()
}

func joinable(s string, a, b encodedWord) bool {
	return strings.TrimSpace(s[a.end:b.start]) == "" &&
		strings.EqualFold(a.charset, b.charset) && strings.EqualFold(a.encoding, b.encoding)
}

// joinWords makes one encoded word of words, which share charset and
// encoding: Q text joins as it is, B text is decoded, joined and encoded
// again (each word's base64 is padded on its own).
func joinWords(words []encodedWord) (string, bool) {
	var text strings.Builder
	switch strings.ToUpper(words[0].encoding) {
	case "Q":
		for _, w := range words {
			text.WriteString(w.text)
		}
	case "B":
		var raw []byte
		for _, w := range words {
			b, err := base64.StdEncoding.DecodeString(w.text)
			if err != nil {
				return "", false
			}
			raw = append(raw, b...)
		}
		text.WriteString(base64.StdEncoding.EncodeToString(raw))
	default:
		return "", false
	}
	return "=?" + words[0].charset + "?" + words[0].encoding + "?" + text.String() + "?=", true
}

// Decode decodes the encoded words in s, after Join. A word in a charset
// nobody can decode, or malformed, stays as it is, instead of failing the
// whole value as mime.WordDecoder.DecodeHeader does. The result may hold
// invalid UTF-8 where the sender's bytes were invalid; cleaning it for
// display is the caller's.
func Decode(s string) string {
	s = Join(s)
	var out strings.Builder
	pos := 0
	previousDecoded := false
	for _, w := range findEncodedWords(s) {
		gap := s[pos:w.start]
		decoded, err := wordDecoder.Decode(s[w.start:w.end])
		// White space between two encoded words is not part of the text
		// (RFC 2047 §6.2).
		if err != nil || !previousDecoded || strings.TrimSpace(gap) != "" {
			out.WriteString(gap)
		}
		if err != nil {
			out.WriteString(s[w.start:w.end])
		} else {
			out.WriteString(decoded)
		}
		previousDecoded = err == nil
		pos = w.end
	}
	out.WriteString(s[pos:])
	return out.String()
}
