package web

import (
	"net/url"
	"strings"
)

// Bounds on the paging values in the inbox URL.
const (
	maxPageTokenLen = 256
	maxTrail        = 100
)

// paging is where in the unread list a page is: the Gmail page token of
// this page and the tokens of the pages before it (Gmail gives only "next",
// so the way back travels in the URL). Page tokens are not secrets.
type paging struct {
	token string
	trail []string
}

func parsePaging(q url.Values) (paging, bool) {
	p := paging{token: q.Get("page")}
	if t := q.Get("trail"); t != "" {
		p.trail = strings.Split(t, ".")
	}
	if len(p.trail) > maxTrail || (p.token == "" && len(p.trail) > 0) {
		return paging{}, false
	}
	for _, tok := range append([]string{p.token}, p.trail...) {
		if !validPageToken(tok, tok == p.token) {
			return paging{}, false
		}
	}
	return p, true
}

// validPageToken accepts Gmail's opaque tokens: URL-safe, bounded.
func validPageToken(tok string, mayBeEmpty bool) bool {
	if tok == "" {
		return mayBeEmpty
	}
	if len(tok) > maxPageTokenLen {
		return false
	}
	for _, c := range tok {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p paging) number() int {
	if p.token == "" {
		return 1
	}
	return len(p.trail) + 2
}

func (p paging) olderLink(next string) string {
	if next == "" || !validPageToken(next, false) {
		return ""
	}
	trail := p.trail
	if p.token != "" {
		if len(trail) >= maxTrail {
			// Too deep to remember the way back: forget the oldest steps.
			trail = trail[1:]
		}
		trail = append(trail[:len(trail):len(trail)], p.token)
	}
	return pageLink(next, trail)
}

// link is the address of this page, for coming back to it after a silent
// re-authorization. A trail too long to remember in the cookie is dropped:
// the page itself is kept, only its way back is lost.
func (p paging) link() string {
	if p.token == "" {
		return "/home"
	}
	if link := pageLink(p.token, p.trail); len(link) <= maxReturnLen {
		return link
	}
	return pageLink(p.token, nil)
}

func (p paging) newerLink() string {
	if p.token == "" {
		return ""
	}
	if len(p.trail) == 0 {
		return "/home"
	}
	last := len(p.trail) - 1
	return pageLink(p.trail[last], p.trail[:last])
}

func pageLink(token string, trail []string) string {
	q := url.Values{"page": {token}}
	if len(trail) > 0 {
		q.Set("trail", strings.Join(trail, "."))
	}
	return "/home?" + q.Encode()
}
