package gmailapi

import (
	"net/url"
	"testing"
)

// FuzzPageToken: a page token the sandbox made reads back as its offset
// with the query it was made for, and with no other; any other string is
// refused, and nothing panics.
func FuzzPageToken(f *testing.F) {
	for _, seed := range []struct {
		token  string
		offset int
		q      string
	}{
		{"00100123456789012345", 100, "is:unread"},
		{"", 0, ""},
		{"00002000000000000000", 2, "history"},           // history's second page, refused once for every query
		{"100000123456789012345", 100000, "label:inbox"}, // past five digits
		{"-0001123456789012345", 9223372036854775807, "in:anywhere"},
		{"99999999999999999999999999999999999", 1, "\x00"},
	} {
		f.Add(seed.token, seed.offset, seed.q)
	}
	s := newTestAPI(f)
	f.Fuzz(func(t *testing.T, token string, offset int, q string) {
		fingerprint := []string{"messages", hanakoAddress, q}
		other := []string{"messages", hanakoAddress, q + "x"}
		if offset >= 0 {
			made := s.pageToken(offset, fingerprint)
			if got, ok := s.parsePageToken(made, fingerprint); !ok || got != offset {
				t.Fatalf("token %q made for offset %d reads back as %d, %v", made, offset, got, ok)
			}
			if _, apiErr := s.pageStart(url.Values{"pageToken": {made}}, other); apiErr == nil {
				t.Fatalf("token %q for q=%q works with q=%q", made, q, q+"x")
			}
		}
		got, ok := s.parsePageToken(token, fingerprint)
		if ok && (got < 0 || s.pageToken(got, fingerprint) != token) {
			t.Fatalf("token %q reads as offset %d, though the sandbox did not make it", token, got)
		}
		if start, apiErr := s.pageStart(url.Values{"pageToken": {token}}, fingerprint); (apiErr == nil) != (ok || token == "") || apiErr == nil && start != got {
			t.Fatalf("pageStart(%q) = %d, %v; parsePageToken = %d, %v", token, start, apiErr, got, ok)
		}
	})
}
