// Package i18ntest checks pages for text left untranslated.
package i18ntest

import (
	"regexp"
	"sort"
	"strings"

	"gmailoauth/internal/i18n"
)

// verb is a fmt verb in a catalogue text.
var verb = regexp.MustCompile(`%[sdvq]`)

// Untranslated returns the English sentences of c — texts of two words or
// more — that occur in page, the visible text of a page in lang. A fmt verb
// matches whatever the page filled in.
func Untranslated(c i18n.Catalogue, lang i18n.Lang, page string) []string {
	var found []string
	for _, english := range c[i18n.English] {
		if len(strings.Fields(verb.ReplaceAllString(english, ""))) < 2 {
			continue
		}
		pieces := verb.Split(english, -1)
		for i := range pieces {
			pieces[i] = regexp.QuoteMeta(pieces[i])
		}
		if regexp.MustCompile(strings.Join(pieces, `.{1,80}?`)).MatchString(page) {
			found = append(found, english)
		}
	}
	sort.Strings(found)
	return found
}
