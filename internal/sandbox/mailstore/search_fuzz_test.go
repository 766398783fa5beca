package mailstore

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzSearchQuery parses any q. Beyond MaxQueryBytes it is refused; within,
// it parses or is refused for nesting too deep, and what parses nests no
// deeper than MaxQueryDepth, keeps the parser's one shape, and reads back
// from its printed form (String) as the same tree, so the same search.
// Matching it against seeded mail, legacy charsets and an attachment among
// them, must not fail either.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range []string{
		// The searches issue 23 proved wrong.
		strings.Repeat("(", MaxQueryBytes+1), // 2.5 million of them crashed the process
		strings.Repeat("(", MaxQueryBytes),
		strings.Repeat("-(", MaxQueryDepth/2) + "-kickoff",
		"from:me", "to:me", "subject:(project kickoff)", "subject:(dinner movie)", "-in:trash", "-in:spam",
		"subject:旅行の写真", "larger:10M", "smaller:2k", "size:1000000", "filename:pdf", "filename:homework.txt",
		"deliveredto:hanako.yamada@example.jp", "older_than:300y", "newer_than:300y", "newer_than:9223372036854775807d",
		// What clients send, and odd corners of the grammar.
		"is:unread", `subject:"Project kickoff"`, "from:olivia OR from:emily", "{from:olivia from:emily}",
		"is:starred (from:olivia OR from:alex)", "is:unread -from:olivia", `"Fushimi Inari"`, "in:anywhere",
		"after:2025/11/24 before:2025-11-25", "-(-in:trash)", `subject:("a b" -c OR d)`, `a"b c"d`,
		"OR a OR", "a | b", "- -x", "a - b", "(a)-b", "subject:", `"subject:x"`, "foo:bar", "}{)(", "\xff\xfe(",
	} {
		f.Add(q)
	}

	box, _ := NewStore(time.Now()).Seeded("hanako.yamada@example.jp")
	var mail []*Message
	for _, m := range box.Messages {
		if subject, _ := m.HeaderValue("Subject"); len(mail) < 4 || len(m.Attachments) > 0 || strings.Contains(subject, "=?") {
			mail = append(mail, m)
		}
	}
	ctx := SearchContext{Now: time.Date(2025, time.November, 25, 5, 30, 0, 0, time.UTC), Me: box.Address}

	f.Fuzz(func(t *testing.T, q string) {
		node, err := parseSearch(q)
		if len(q) > MaxQueryBytes {
			if !errors.Is(err, errQueryTooLong) {
				t.Fatalf("parseSearch(%d bytes) = %v; want errQueryTooLong", len(q), err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, errQueryTooDeep) {
				t.Fatalf("parseSearch(%q) = %v; want it parsed, or errQueryTooDeep", q, err)
			}
			return
		}
		if depth := nesting(node, true); depth > MaxQueryDepth {
			t.Fatalf("parseSearch(%q) nests %d deep; the bound is %d", q, depth, MaxQueryDepth)
		}
		checkShape(t, q, node, true)
		printed := node.String()
		if len(printed) <= MaxQueryBytes { // quotes added, bad UTF-8 replaced may make it longer
			again, err := parseSearch(printed)
			if err != nil || !reflect.DeepEqual(again, node) {
				t.Fatalf("parseSearch(%q) printed as %q, which parses to %+v, %v; want %+v", q, printed, again, err, node)
			}
		}
		match, _, apiErr := ParseQuery(q, ctx)
		if apiErr != nil {
			t.Fatalf("parseQuery(%q) = %s after parseSearch took it", q, apiErr)
		}
		for _, m := range mail {
			match(m)
		}
	})
}

// nesting is how deep n's brackets and negations nest as String writes it:
// the root's brackets left out, a choice bracketed after "-" or in another
// choice.
func nesting(n searchNode, root bool) int {
	deepest := 0
	for _, child := range n.children {
		d := nesting(child, false)
		if child.kind == nodeAny && n.kind != nodeAll {
			d++
		}
		deepest = max(deepest, d)
	}
	if n.kind == nodeNot || n.kind == nodeAll && !root {
		deepest++
	}
	return deepest
}

// checkShape fails unless n keeps the parser's one shape: no group of one
// child, no empty one but the root, no double negation, terms with a value
// and a known field or none.
func checkShape(t *testing.T, q string, n searchNode, root bool) {
	t.Helper()
	switch n.kind {
	case nodeTerm:
		if len(n.children) > 0 || n.value == "" || n.field != "" && !searchFields[n.field] {
			t.Fatalf("parseSearch(%q) has the term %+v", q, n)
		}
	case nodeNot:
		if len(n.children) != 1 || n.children[0].kind == nodeNot || isEmpty(n.children[0]) {
			t.Fatalf("parseSearch(%q) has the negation %+v", q, n)
		}
	case nodeAll, nodeAny:
		if len(n.children) == 1 || len(n.children) == 0 && !(root && n.kind == nodeAll) {
			t.Fatalf("parseSearch(%q) has the group %+v", q, n)
		}
	}
	for _, child := range n.children {
		checkShape(t, q, child, false)
	}
}
