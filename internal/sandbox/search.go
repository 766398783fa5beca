package sandbox

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// A Gmail search (the q parameter) is parsed into a tree of terms and
// tested against each message. The grammar is the part of Gmail's that
// clients use:
//
//	query  = or { or }             terms side by side: all must match
//	or     = unary { "OR" unary }  either ("|" too)
//	unary  = "-" unary | atom      negation
//	atom   = "(" query ")" | "{" query "}" | term
//	term   = operator ":" value | value, a value a word or a "quoted phrase"
//
// where braces match any of the terms inside them, as Gmail's do.
// Operators: from:, to:, subject:, label:, is:, in:, category:, after:,
// before:, newer_than:, older_than:, has:attachment; a word alone matches
// the sender, the recipients, the subject or the text.

// query is a parsed search: does a message match it?
type query func(m *message) bool

// searchContext is what a term needs besides the message: now, for
// newer_than: and older_than:.
type searchContext struct{ now time.Time }

// parseQuery parses q. A query that cannot be parsed the way Gmail reads
// it matches as Gmail does: words Gmail does not know are free text.
func parseQuery(q string, ctx searchContext) (query, searchScope) {
	p := &queryParser{tokens: tokenize(q), ctx: ctx}
	terms := p.parseAll()
	return all(terms), p.scope
}

// searchScope is what a query says of spam and trash, which Gmail hides
// unless a query or includeSpamTrash asks for them.
type searchScope struct {
	spamOrTrash bool // in:spam, in:trash or in:anywhere
}

type queryParser struct {
	tokens []string
	pos    int
	ctx    searchContext
	scope  searchScope
}

func (p *queryParser) peek() string {
	if p.pos < len(p.tokens) {
		return p.tokens[p.pos]
	}
	return ""
}

func (p *queryParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

// parseAll reads terms until the end, a closing bracket ends nothing here.
func (p *queryParser) parseAll() []query {
	var terms []query
	for p.pos < len(p.tokens) {
		if t := p.peek(); t == ")" || t == "}" {
			p.pos++ // a stray closing bracket: Gmail ignores it
			continue
		}
		terms = append(terms, p.parseOr())
	}
	return terms
}

func (p *queryParser) parseOr() query {
	left := p.parseUnary()
	for p.peek() == "OR" || p.peek() == "|" {
		p.pos++
		if p.pos >= len(p.tokens) {
			break
		}
		right := p.parseUnary()
		left = anyOf(left, right)
	}
	return left
}

func (p *queryParser) parseUnary() query {
	if p.peek() == "-" {
		p.pos++
		if p.pos >= len(p.tokens) {
			return func(*message) bool { return true }
		}
		inner := p.parseUnary()
		return func(m *message) bool { return !inner(m) }
	}
	return p.parseAtom()
}

func (p *queryParser) parseAtom() query {
	switch t := p.next(); t {
	case "(":
		return all(p.parseUntil(")"))
	case "{":
		return anyOf(p.parseUntil("}")...)
	default:
		return p.term(t)
	}
}

// parseUntil reads terms up to the closing bracket, or the end.
func (p *queryParser) parseUntil(closing string) []query {
	var terms []query
	for p.pos < len(p.tokens) && p.peek() != closing {
		terms = append(terms, p.parseOr())
	}
	p.pos++ // the closing bracket
	return terms
}

// term is one word, phrase or operator:value.
func (p *queryParser) term(token string) query {
	if strings.HasPrefix(token, `"`) {
		return textMatches(strings.Trim(token, `"`))
	}
	operator, value, found := strings.Cut(token, ":")
	if !found || value == "" {
		return textMatches(token)
	}
	value = strings.Trim(value, `"`)
	lower := strings.ToLower(value)
	switch strings.ToLower(operator) {
	case "from":
		return headerMatches(value, "From")
	case "to":
		return headerMatches(value, "To", "Cc", "Bcc", "Delivered-To")
	case "subject":
		return headerMatches(value, "Subject")
	case "label", "category":
		return labelMatches(lower)
	case "is":
		switch lower {
		case "read":
			return func(m *message) bool { return !m.hasLabel(labelUnread) }
		case "unread", "starred", "important":
			return labelMatches(lower)
		}
	case "in":
		switch lower {
		case "anywhere":
			p.scope.spamOrTrash = true
			return func(*message) bool { return true }
		case "spam", "trash":
			p.scope.spamOrTrash = true
		}
		return labelMatches(lower)
	case "has":
		if lower == "attachment" {
			return func(m *message) bool { return len(m.attachments) > 0 }
		}
	case "after", "before":
		if at, ok := parseSearchDate(value); ok {
			if strings.EqualFold(operator, "after") {
				return func(m *message) bool { return !m.internalDate.Before(at) }
			}
			return func(m *message) bool { return m.internalDate.Before(at) }
		}
	case "newer_than", "older_than":
		if age, ok := parseAge(lower); ok {
			cutoff := p.ctx.now.Add(-age)
			if strings.EqualFold(operator, "newer_than") {
				return func(m *message) bool { return m.internalDate.After(cutoff) }
			}
			return func(m *message) bool { return !m.internalDate.After(cutoff) }
		}
	}
	// An operator Gmail would not know: the whole of it is text.
	return textMatches(token)
}

// searchZone is the zone of dates in a search: Gmail's documentation says
// dates without a time are Pacific Standard Time.
var searchZone = time.FixedZone("PST", -8*60*60)

// parseSearchDate reads a date of after: and before:: YYYY/MM/DD (or with
// dashes), or seconds since the epoch.
func parseSearchDate(value string) (time.Time, bool) {
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil && len(value) > 8 {
		return time.Unix(seconds, 0), true
	}
	for _, layout := range []string{"2006/1/2", "2006-1-2"} {
		if at, err := time.ParseInLocation(layout, value, searchZone); err == nil {
			return at, true
		}
	}
	return time.Time{}, false
}

// parseAge reads newer_than: and older_than:: a number of days (d),
// months (m) or years (y).
func parseAge(value string) (time.Duration, bool) {
	if len(value) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(value[:len(value)-1])
	if err != nil || n < 0 {
		return 0, false
	}
	day := 24 * time.Hour
	switch value[len(value)-1] {
	case 'd':
		return time.Duration(n) * day, true
	case 'm':
		return time.Duration(n) * 30 * day, true
	case 'y':
		return time.Duration(n) * 365 * day, true
	}
	return 0, false
}

// labelMatches matches messages with the label a search names: a system
// label by its name in lower case, or a category.
func labelMatches(name string) query {
	label, ok := searchLabels[strings.TrimPrefix(name, "category_")]
	if !ok {
		return func(*message) bool { return false }
	}
	return func(m *message) bool { return m.hasLabel(label) }
}

// headerMatches matches messages whose header (any of names) holds value,
// ignoring case: an address, a name or a word of it.
func headerMatches(value string, names ...string) query {
	value = strings.ToLower(value)
	return func(m *message) bool {
		for _, name := range names {
			if header, ok := m.headerValue(name); ok && strings.Contains(strings.ToLower(header), value) {
				return true
			}
		}
		return false
	}
}

// textMatches matches a word or phrase anywhere a person would read it:
// sender, recipients, subject, text.
func textMatches(text string) query {
	text = strings.ToLower(text)
	return func(m *message) bool {
		for _, name := range []string{"From", "To", "Subject"} {
			if header, ok := m.headerValue(name); ok && strings.Contains(strings.ToLower(header), text) {
				return true
			}
		}
		return strings.Contains(strings.ToLower(m.text), text)
	}
}

func all(terms []query) query {
	return func(m *message) bool {
		for _, term := range terms {
			if !term(m) {
				return false
			}
		}
		return true
	}
}

func anyOf(terms ...query) query {
	return func(m *message) bool {
		for _, term := range terms {
			if term(m) {
				return true
			}
		}
		return false
	}
}

// tokenize splits a search into words, quoted phrases (with their quotes,
// an operator's included: subject:"a b"), brackets and "-" before a term.
func tokenize(q string) []string {
	var tokens []string
	runes := []rune(q)
	for i := 0; i < len(runes); {
		r := runes[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(' || r == ')' || r == '{' || r == '}':
			tokens = append(tokens, string(r))
			i++
		case r == '-' && i+1 < len(runes) && !unicode.IsSpace(runes[i+1]) && (i == 0 || !isWordRune(runes[i-1])):
			tokens = append(tokens, "-")
			i++
		default:
			start := i
			quoted := false
			for i < len(runes) {
				c := runes[i]
				if c == '"' {
					quoted = !quoted
				} else if !quoted && (unicode.IsSpace(c) || c == '(' || c == ')' || c == '{' || c == '}') {
					break
				}
				i++
			}
			tokens = append(tokens, string(runes[start:i]))
		}
	}
	return tokens
}

func isWordRune(r rune) bool {
	return !unicode.IsSpace(r) && r != '(' && r != '{'
}
