package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestSafeReturnStaysOnTheInbox checks that the page a silent
// re-authorization returns to can only be the app's inbox, whatever the
// cookie held.
func TestSafeReturnStaysOnTheInbox(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{name: "newest page", raw: "/home", want: "/home"},
		{name: "older page", raw: "/home?page=abc&trail=def", want: "/home?page=abc&trail=def"},
		{name: "other host", raw: "https://evil.example/home", want: "/home"},
		{name: "scheme-relative", raw: "//evil.example/home", want: "/home"},
		{name: "backslash host", raw: "/\\evil.example/home", want: "/home"},
		{name: "another route", raw: "/logout", want: "/home"},
		{name: "page token with a slash", raw: "/home?page=a%2F%2Fevil", want: "/home"},
		{name: "extra parameter dropped", raw: "/home?page=abc&next=https://evil.example", want: "/home?page=abc"},
		{name: "user info", raw: "https://user@evil.example/home", want: "/home"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeReturn(tt.raw); got != tt.want {
				t.Errorf("safeReturn(%q) = %q; want %q", tt.raw, got, tt.want)
			}
		})
	}
}

// TestReturnLinkFitsTheCookie checks that a deep page's link is bounded: the
// page is kept, its long way back dropped.
func TestReturnLinkFitsTheCookie(t *testing.T) {
	deep := paging{token: "current", trail: strings.Split(strings.Repeat("T0123456789abcdef.", maxTrail-1)+"last", ".")}
	link := deep.link()
	if len(link) > maxReturnLen {
		t.Fatalf("link of a page %d deep is %d bytes; want at most %d", len(deep.trail)+1, len(link), maxReturnLen)
	}
	u, err := url.Parse(link)
	if err != nil || u.Path != "/home" || u.Query().Get("page") != "current" {
		t.Errorf("link = %q; want /home?page=current", link)
	}
}
