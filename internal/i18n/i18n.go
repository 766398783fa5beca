// Package i18n is how a page picks its language and finds its words: the
// languages offered, Accept-Language matched with golang.org/x/text/language,
// and message catalogues with the template functions that read them. The app
// and the sandbox each keep their own catalogue.
package i18n

import (
	"fmt"
	"html/template"
	"strconv"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Lang is a language pages are written in, as its BCP 47 tag.
type Lang string

// The languages offered. English is the fallback.
const (
	English  Lang = "en"
	Japanese Lang = "ja"
)

// Langs lists the languages offered, the fallback first.
var Langs = []Lang{English, Japanese}

var matcher = language.NewMatcher([]language.Tag{language.English, language.Japanese})

// Negotiate picks the offered language that best fits an Accept-Language
// header value, English when none does.
func Negotiate(acceptLanguage string) Lang {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return English
	}
	_, index, confidence := matcher.Match(tags...)
	if confidence == language.No {
		return English
	}
	return Langs[index]
}

// WrittenIn returns the language text is sure to be written in, for a lang
// attribute on it, when that is not page, the language around it; else "".
// A screen reader reads text in the voice of its lang, so a Japanese
// subject in an English inbox read with the English voice comes out as
// noise. Only Japanese is sure: kana are written in no other language.
// Kanji alone could be Chinese, and Latin letters any of many languages,
// so such text is left to the page's language.
func WrittenIn(text string, page Lang) Lang {
	if page == Japanese {
		return ""
	}
	for _, r := range text {
		if r >= utf8.RuneSelf && (unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r)) {
			return Japanese
		}
	}
	return ""
}

// Parse returns the offered language named exactly by s ("en", "ja").
func Parse(s string) (Lang, bool) {
	for _, l := range Langs {
		if string(l) == s {
			return l, true
		}
	}
	return "", false
}

// Catalogue holds, for each offered language, the text of every message
// key. Texts may hold fmt verbs for their arguments.
type Catalogue map[Lang]map[string]string

// Check reports the first gap in c: a language offered without texts, a
// key one language has and another lacks, or a text whose fmt verbs differ
// from the English one's. Servers check their catalogue at start, as they
// parse their templates, so a gap never reaches a page.
func (c Catalogue) Check() error {
	for _, lang := range Langs {
		if len(c[lang]) == 0 {
			return fmt.Errorf("i18n: no %q texts", lang)
		}
	}
	for _, lang := range Langs[1:] {
		for key, english := range c[English] {
			text, ok := c[lang][key]
			if !ok {
				return fmt.Errorf("i18n: %q has no %q text", key, lang)
			}
			if verbs(text) != verbs(english) {
				return fmt.Errorf("i18n: %q in %q has verbs %q; English has %q", key, lang, verbs(text), verbs(english))
			}
		}
		for key := range c[lang] {
			if _, ok := c[English][key]; !ok {
				return fmt.Errorf("i18n: %q has a %q text but no English one", key, lang)
			}
		}
	}
	return nil
}

// verbs lists the fmt verbs of text in order, e.g. "%s%d".
func verbs(text string) string {
	var out []byte
	for i := 0; i < len(text)-1; i++ {
		if text[i] == '%' {
			out = append(out, '%', text[i+1])
			i++
		}
	}
	return string(out)
}

// Text is the text of key in lang with args filled in. An unknown key is an
// error, so a template using it fails in tests instead of showing a gap.
func (c Catalogue) Text(lang Lang, key string, args ...any) (string, error) {
	text, ok := c[lang][key]
	if !ok {
		return "", fmt.Errorf("i18n: no %q text for %q", lang, key)
	}
	if len(args) > 0 {
		text = fmt.Sprintf(text, args...)
	}
	return text, nil
}

// Plural is Text of key+".one" when n is 1 and key+".other" otherwise, with
// n (grouped in thousands) as the first argument.
func (c Catalogue) Plural(lang Lang, key string, n int, args ...any) (string, error) {
	form := ".other"
	if n == 1 {
		form = ".one"
	}
	return c.Text(lang, key+form, append([]any{Number(n)}, args...)...)
}

// Funcs are the template functions of the catalogue:
//
//	{{t .Lang "key" args...}}      the text of key
//	{{tn .Lang "key" n args...}}   its plural form for n
//	{{number n}}                   n with its thousands grouped
func (c Catalogue) Funcs() template.FuncMap {
	return template.FuncMap{"t": c.Text, "tn": c.Plural, "number": Number}
}

// Number writes n with its thousands grouped by commas, as both English and
// Japanese do: 12,345.
func Number(n int) string {
	digits := strconv.Itoa(n)
	sign := ""
	if n < 0 {
		sign, digits = "-", digits[1:]
	}
	for i := len(digits) - 3; i > 0; i -= 3 {
		digits = digits[:i] + "," + digits[i:]
	}
	return sign + digits
}
