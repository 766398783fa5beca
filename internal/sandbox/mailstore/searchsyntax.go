// The syntax of a Gmail search (the q parameter): its words, the tree they
// parse into, the bounds on both, and the tree written back as a query.

package mailstore

import (
	"fmt"
	"strings"
	"unicode"
)

// The grammar is the part of Gmail's that clients use:
//
//	query  = or { or }             terms side by side: all must match
//	or     = unary { "OR" unary }  either ("|" too)
//	unary  = "-" unary | atom      negation
//	atom   = group | field group | term
//	group  = "(" query ")" | "{" query "}"
//	term   = field value | value, a value a word or a "quoted phrase"
//
// where braces match any of the terms inside them, as Gmail's do, and a
// field before brackets (subject:(dinner movie)) applies to each word
// inside. A field is an operator Gmail knows followed by ":"; any other
// word with a colon is text.

// Bounds on a search. Gmail documents none, but no person writes more:
// Google's front end refuses a URL beyond about 8 KiB (8192 bytes, as
// googleapis/google-api-nodejs-client#972 found), so no q a client sends
// with GET is longer, and a batch part, which could carry megabytes, gets
// the same bound. Brackets and negations nest at most MaxQueryDepth deep,
// which keeps the parser's, the matcher's and the printer's recursion small
// whatever the input.
const (
	MaxQueryBytes = 8192
	MaxQueryDepth = 64
)

var (
	errQueryTooLong = fmt.Errorf("longer than %d bytes", MaxQueryBytes)
	errQueryTooDeep = fmt.Errorf("brackets and negations nested more than %d deep", MaxQueryDepth)
)

// searchFields are the operators the sandbox knows, by their names in
// lower case; a word with another name before its colon is text.
var searchFields = map[string]bool{
	"from": true, "to": true, "subject": true, "label": true, "category": true, "is": true, "in": true,
	"has": true, "after": true, "before": true, "newer_than": true, "older_than": true,
	"larger": true, "smaller": true, "size": true, "filename": true, "deliveredto": true,
}

// nodeKind is what a searchNode is.
type nodeKind int

const (
	nodeTerm nodeKind = iota // a word, phrase or field:value
	nodeAll                  // every child matches; none: no condition at all
	nodeAny                  // some child matches
	nodeNot                  // the one child does not match
)

// searchNode is a parsed search. The parser keeps it in one shape: no
// group of one child, no empty group but the root, no double negation.
// That shape is what makes parse(node.String()) give node back.
type searchNode struct {
	kind     nodeKind
	field    string // a term's operator, in lower case; "" for text
	value    string // a term's word or phrase, without quotes
	children []searchNode
}

// parseSearch parses q into its tree. Every input parses, as at Gmail,
// except one beyond the bounds. It takes time linear in len(q).
func parseSearch(q string) (searchNode, error) {
	if len(q) > MaxQueryBytes {
		return searchNode{}, errQueryTooLong
	}
	p := &searchParser{tokens: tokenize(q)}
	root, err := p.parseSequence("", "", 0)
	if err != nil {
		return searchNode{}, err
	}
	return root, nil
}

type searchParser struct {
	tokens []string
	pos    int
}

func (p *searchParser) peek() string {
	if p.pos < len(p.tokens) {
		return p.tokens[p.pos]
	}
	return ""
}

func isClosing(token string) bool { return token == ")" || token == "}" }

// parseSequence reads terms up to closing (or the end, for "") and makes
// them one group: all of them, or for "}" any. Every term inside without a
// field of its own takes field. A closing bracket of the other kind is
// stray, and ignored as Gmail ignores it.
func (p *searchParser) parseSequence(closing, field string, depth int) (searchNode, error) {
	var terms []searchNode
	for p.pos < len(p.tokens) {
		if t := p.peek(); isClosing(t) {
			p.pos++
			if t == closing {
				break
			}
			continue
		}
		term, err := p.parseOr(field, depth)
		if err != nil {
			return searchNode{}, err
		}
		terms = append(terms, term)
	}
	if closing == "}" {
		return group(nodeAny, terms), nil
	}
	return group(nodeAll, terms), nil
}

func (p *searchParser) parseOr(field string, depth int) (searchNode, error) {
	first, err := p.parseUnary(field, depth)
	if err != nil {
		return searchNode{}, err
	}
	either := []searchNode{first}
	for t := p.peek(); t == "OR" || t == "|"; t = p.peek() {
		p.pos++
		if next := p.peek(); next == "" || isClosing(next) {
			break // nothing to be the other choice
		}
		other, err := p.parseUnary(field, depth)
		if err != nil {
			return searchNode{}, err
		}
		either = append(either, other)
	}
	return group(nodeAny, either), nil
}

func (p *searchParser) parseUnary(field string, depth int) (searchNode, error) {
	if p.peek() != "-" {
		return p.parseAtom(field, depth)
	}
	p.pos++
	if depth++; depth > MaxQueryDepth {
		return searchNode{}, errQueryTooDeep
	}
	if next := p.peek(); next == "" || isClosing(next) {
		return searchNode{kind: nodeAll}, nil // nothing to leave out
	}
	inner, err := p.parseUnary(field, depth)
	if err != nil {
		return searchNode{}, err
	}
	switch {
	case isEmpty(inner):
		return inner, nil
	case inner.kind == nodeNot:
		return inner.children[0], nil
	}
	return searchNode{kind: nodeNot, children: []searchNode{inner}}, nil
}

func (p *searchParser) parseAtom(field string, depth int) (searchNode, error) {
	token := p.peek()
	p.pos++
	if token == "(" || token == "{" {
		if depth++; depth > MaxQueryDepth {
			return searchNode{}, errQueryTooDeep
		}
		closing := ")"
		if token == "{" {
			closing = "}"
		}
		return p.parseSequence(closing, field, depth)
	}
	name, rest, found := strings.Cut(token, ":")
	name = strings.ToLower(name)
	if found && rest == "" && searchFields[name] {
		if next := p.peek(); next == "(" || next == "{" {
			return p.parseAtom(name, depth) // subject:(dinner movie)
		}
	}
	return makeTerm(token, field), nil
}

// makeTerm is the term a token stands for; field applies when the token
// names none of its own.
func makeTerm(token, field string) searchNode {
	name, value, found := strings.Cut(token, ":")
	name = strings.ToLower(name)
	value = strings.ReplaceAll(value, `"`, "")
	if found && value != "" && searchFields[name] {
		return searchNode{kind: nodeTerm, field: name, value: value}
	}
	text := strings.ReplaceAll(token, `"`, "")
	if text == "" {
		return searchNode{kind: nodeAll} // "" asks nothing
	}
	return searchNode{kind: nodeTerm, field: field, value: text}
}

// group makes children one node of kind, in the parser's one shape. It
// copies only children, never grandchildren, so a parse stays linear
// however deep its groups.
func group(kind nodeKind, children []searchNode) searchNode {
	kept := make([]searchNode, 0, len(children))
	for _, child := range children {
		if !isEmpty(child) {
			kept = append(kept, child)
		}
	}
	switch len(kept) {
	case 0:
		return searchNode{kind: nodeAll}
	case 1:
		return kept[0]
	}
	return searchNode{kind: kind, children: kept}
}

// isEmpty reports a group that asks nothing: (), {}.
func isEmpty(n searchNode) bool { return n.kind == nodeAll && len(n.children) == 0 }

// String writes n back as a query that parses to n: groups in brackets, a
// choice with OR, each value quoted where its characters would otherwise
// mean something else. The root's brackets are left out.
func (n searchNode) String() string {
	var out strings.Builder
	if n.kind == nodeAll {
		n.writeChildren(&out, " ")
	} else {
		n.write(&out)
	}
	return out.String()
}

func (n searchNode) write(out *strings.Builder) {
	switch n.kind {
	case nodeTerm:
		if n.field != "" {
			out.WriteString(n.field + ":")
		}
		if needsQuotes(n.value, n.field == "") {
			out.WriteString(`"` + n.value + `"`)
		} else {
			out.WriteString(n.value)
		}
	case nodeAll:
		out.WriteString("(")
		n.writeChildren(out, " ")
		out.WriteString(")")
	case nodeAny:
		// OR binds tighter than terms side by side, so a choice needs
		// brackets only after "-" or inside another choice.
		n.writeChildren(out, " OR ")
	case nodeNot:
		out.WriteString("-")
		n.writeChildren(out, "")
	}
}

func (n searchNode) writeChildren(out *strings.Builder, separator string) {
	for i, child := range n.children {
		if i > 0 {
			out.WriteString(separator)
		}
		if child.kind == nodeAny && n.kind != nodeAll {
			out.WriteString("(")
			child.write(out)
			out.WriteString(")")
		} else {
			child.write(out)
		}
	}
}

// needsQuotes reports whether value would not read back as one word: it
// holds a space or a bracket, begins as a negation, is OR, or as text has a
// colon that would make it a field. (No value holds a quote: the parser
// takes them out.)
func needsQuotes(value string, text bool) bool {
	return value == "OR" || value == "|" || strings.HasPrefix(value, "-") ||
		strings.ContainsFunc(value, func(r rune) bool { return unicode.IsSpace(r) || isBracket(r) }) ||
		text && strings.Contains(value, ":")
}

func isBracket(r rune) bool { return r == '(' || r == ')' || r == '{' || r == '}' }

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
		case isBracket(r):
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
				} else if !quoted && (unicode.IsSpace(c) || isBracket(c)) {
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
