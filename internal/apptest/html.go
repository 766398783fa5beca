package apptest

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Parse parses an HTML page.
func Parse(t testing.TB, body []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

// Find returns the first element named tag, depth first, or nil.
func Find(n *html.Node, tag string) *html.Node {
	all := FindAll(n, tag)
	if len(all) == 0 {
		return nil
	}
	return all[0]
}

// FindAll returns every element named tag below n. A tag of the form
// "li.message" also requires the class.
func FindAll(n *html.Node, tag string) []*html.Node {
	name, class, _ := strings.Cut(tag, ".")
	var found []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == name && (class == "" || hasClass(c, class)) {
				found = append(found, c)
			}
			walk(c)
		}
	}
	walk(n)
	return found
}

// Attr returns an attribute's value, or "".
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// hasAttr reports whether the element has the attribute at all.
func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// hasClass reports whether the element's class list holds class.
func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(Attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// Text is the element's text content with white space folded.
func Text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
