package mailstore

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gmailoauth/internal/encword"
)

// A Gmail search (the q parameter) is parsed into a tree (searchsyntax.go),
// then compiled into a test of each message. Operators: from:, to:,
// deliveredto:, subject:, label:, is:, in:, category:, after:, before:,
// newer_than:, older_than:, larger:, smaller:, size:, filename:,
// has:attachment, as "Search operators you can use with Gmail"
// (support.google.com/mail/answer/7190) describes them; a word alone matches
// the sender, the recipients, the subject or the text.

// Query is a parsed search: does a message match it?
type Query func(m *Message) bool

// SearchContext is what terms need besides the message: now, for
// newer_than: and older_than:, and the signed-in account's address, which
// "me" stands for in from:, to: and deliveredto:, as at Gmail.
type SearchContext struct {
	Now time.Time
	Me  string
}

// SearchScope is what a query says of spam and trash, which Gmail hides
// unless a query or includeSpamTrash asks for them.
type SearchScope struct {
	spamOrTrash bool // in:spam, in:trash or in:anywhere, not left out with -
}

// ParseQuery parses q and compiles it. Its error is a query beyond the bounds of searchsyntax.go. It reads no mailbox, so
// callers parse before they take a mailbox's lock.
func ParseQuery(q string, ctx SearchContext) (Query, SearchScope, error) {
	root, err := parseSearch(q)
	if err != nil {
		return nil, SearchScope{}, err
	}
	match := ctx.compile(root)
	return func(m *Message) bool { return match(&searchView{m: m}) }, SearchScope{spamOrTrash: asksForSpamOrTrash(root, true)}, nil
}

// asksForSpamOrTrash reports whether n, where a match counts for the query
// (positive) or against it, asks for spam or trash. -in:trash does not.
func asksForSpamOrTrash(n searchNode, positive bool) bool {
	switch n.kind {
	case nodeTerm:
		return positive && n.field == "in" && slices.Contains([]string{"spam", "trash", "anywhere"}, strings.ToLower(n.value))
	case nodeNot:
		return asksForSpamOrTrash(n.children[0], !positive)
	}
	return slices.ContainsFunc(n.children, func(child searchNode) bool { return asksForSpamOrTrash(child, positive) })
}

// searchView is a message as a search reads it: each header decoded as the
// sandbox's pages show it (RFC 2047 words in any charset), and in lower
// case, worked out once per message and search however many terms ask.
type searchView struct {
	m       *Message
	headers map[string]string
	text    *string
}

func (v *searchView) header(name string) string {
	if value, ok := v.headers[name]; ok {
		return value
	}
	raw, _ := v.m.HeaderValue(name)
	value := strings.ToLower(encword.Decode(raw))
	if v.headers == nil {
		v.headers = make(map[string]string)
	}
	v.headers[name] = value
	return value
}

func (v *searchView) body() string {
	if v.text == nil {
		text := strings.ToLower(v.m.Text)
		v.text = &text
	}
	return *v.text
}

// matcher is a compiled part of a search.
type matcher func(v *searchView) bool

func (ctx SearchContext) compile(n searchNode) matcher {
	switch n.kind {
	case nodeNot:
		inner := ctx.compile(n.children[0])
		return func(v *searchView) bool { return !inner(v) }
	case nodeAll, nodeAny:
		parts := make([]matcher, len(n.children))
		for i, child := range n.children {
			parts[i] = ctx.compile(child)
		}
		want := n.kind == nodeAny // any: the first match decides; all: the first miss
		return func(v *searchView) bool {
			for _, part := range parts {
				if part(v) == want {
					return want
				}
			}
			return !want
		}
	}
	if n.field == "" {
		return textMatches(n.value)
	}
	if match, ok := ctx.operator(n.field, n.value); ok {
		return match
	}
	// A value the operator does not take: the whole of it is text.
	return textMatches(n.field + ":" + n.value)
}

// operator compiles field:value, or reports a value field does not take.
func (ctx SearchContext) operator(field, value string) (matcher, bool) {
	lower := strings.ToLower(value)
	switch field {
	case "from":
		return ctx.addressMatches(value, "From"), true
	case "to":
		return ctx.addressMatches(value, "To", "Cc", "Bcc", "Delivered-To"), true
	case "deliveredto":
		return ctx.addressMatches(value, "Delivered-To"), true
	case "subject":
		return headerMatches(value, "Subject"), true
	case "label", "category":
		return labelMatches(lower), true
	case "is":
		switch lower {
		case "read":
			return func(v *searchView) bool { return !v.m.HasLabel(LabelUnread) }, true
		case "unread", "starred", "important":
			return labelMatches(lower), true
		}
	case "in":
		if lower == "anywhere" {
			return func(*searchView) bool { return true }, true
		}
		return labelMatches(lower), true
	case "has":
		if lower == "attachment" {
			return func(v *searchView) bool { return len(v.m.Attachments) > 0 }, true
		}
	case "filename":
		return attachmentMatches(lower), true
	case "after", "before":
		if at, ok := parseSearchDate(value); ok {
			if field == "after" {
				return func(v *searchView) bool { return !v.m.InternalDate.Before(at) }, true
			}
			return func(v *searchView) bool { return v.m.InternalDate.Before(at) }, true
		}
	case "newer_than", "older_than":
		if cutoff, ok := ctx.ageCutoff(lower); ok {
			if field == "newer_than" {
				return func(v *searchView) bool { return v.m.InternalDate.After(cutoff) }, true
			}
			return func(v *searchView) bool { return !v.m.InternalDate.After(cutoff) }, true
		}
	case "larger", "size", "smaller":
		if size, ok := parseSize(lower); ok {
			// size: finds mail "larger than a certain size in bytes".
			if field == "smaller" {
				return func(v *searchView) bool { return uint64(len(v.m.Raw)) < size }, true
			}
			return func(v *searchView) bool { return uint64(len(v.m.Raw)) > size }, true
		}
	}
	return nil, false
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

// maxSearchAgeDays bounds the age in newer_than: and older_than:, beyond
// any mail (10,000 years); time.Duration itself ends at 292 years.
const maxSearchAgeDays = 10_000 * 366

// ageCutoff is the instant newer_than: and older_than: compare with: now
// less a number of days (d), months (m, of 30 days) or years (y, of 365),
// counted in whole days of UTC. A larger age is maxSearchAgeDays.
func (ctx SearchContext) ageCutoff(value string) (time.Time, bool) {
	if len(value) < 2 {
		return time.Time{}, false
	}
	unit := map[byte]uint64{'d': 1, 'm': 30, 'y': 365}[value[len(value)-1]]
	n, ok := parseCount(value[:len(value)-1])
	if unit == 0 || !ok {
		return time.Time{}, false
	}
	days := min(n, maxSearchAgeDays/unit) * unit
	return ctx.Now.UTC().AddDate(0, 0, -int(days)), true
}

// parseSize reads a size of larger:, smaller: and size:: bytes, or with K
// or M, 2^10 and 2^20 bytes (Gmail's filter guide counts 10 MB as
// 10485760). A size too large to count is the largest there is.
func parseSize(value string) (uint64, bool) {
	unit := uint64(1)
	switch {
	case strings.HasSuffix(value, "k"):
		unit = 1 << 10
	case strings.HasSuffix(value, "m"):
		unit = 1 << 20
	}
	if unit > 1 {
		value = value[:len(value)-1]
	}
	n, ok := parseCount(value)
	if !ok {
		return 0, false
	}
	if n > math.MaxUint64/unit {
		return math.MaxUint64, true
	}
	return n * unit, true
}

// parseCount reads a number of decimal digits; one too large to hold is
// the largest there is.
func parseCount(digits string) (uint64, bool) {
	if digits == "" || strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return math.MaxUint64, true // only ErrRange is left
	}
	return n, true
}

// labelMatches matches messages with the label a search names: a system
// label by its name in lower case, or a category.
func labelMatches(name string) matcher {
	label, ok := searchLabels[strings.TrimPrefix(name, "category_")]
	if !ok {
		return func(*searchView) bool { return false }
	}
	return func(v *searchView) bool { return v.m.HasLabel(label) }
}

// addressMatches is headerMatches where "me" is the signed-in account.
func (ctx SearchContext) addressMatches(value string, names ...string) matcher {
	if strings.EqualFold(value, "me") {
		value = ctx.Me
	}
	return headerMatches(value, names...)
}

// headerMatches matches messages whose header (any of names) holds value,
// ignoring case: an address, a name or a word of it.
func headerMatches(value string, names ...string) matcher {
	value = strings.ToLower(value)
	return func(v *searchView) bool {
		return slices.ContainsFunc(names, func(name string) bool { return strings.Contains(v.header(name), value) })
	}
}

// attachmentMatches matches messages with a file by name or type
// (filename:homework.txt, filename:pdf).
func attachmentMatches(value string) matcher {
	return func(v *searchView) bool {
		return slices.ContainsFunc(v.m.Attachments, func(file Attachment) bool {
			_, subtype, _ := strings.Cut(file.MimeType, "/")
			return strings.Contains(strings.ToLower(file.Filename), value) || strings.EqualFold(subtype, value)
		})
	}
}

// textMatches matches a word or phrase anywhere a person would read it:
// sender, recipients, subject, text.
func textMatches(text string) matcher {
	text = strings.ToLower(text)
	inHeaders := headerMatches(text, "From", "To", "Subject")
	return func(v *searchView) bool { return inHeaders(v) || strings.Contains(v.body(), text) }
}
