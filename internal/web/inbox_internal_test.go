package web

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRelativeDate(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	now := time.Date(2026, 11, 25, 15, 30, 0, 0, tokyo)
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"seconds ago", now.Add(-20 * time.Second), "just now"},
		{"a minute ago", now.Add(-time.Minute), "1 minute ago"},
		{"minutes ago", now.Add(-42 * time.Minute), "42 minutes ago"},
		{"an hour ago", now.Add(-time.Hour), "1 hour ago"},
		{"hours ago", now.Add(-15 * time.Hour), "15 hours ago"},
		{"later today (clock skew)", now.Add(2 * time.Hour), "17:30"},
		{"yesterday", now.Add(-16 * time.Hour), "Nov 24"},
		{"this year", time.Date(2026, 3, 4, 9, 0, 0, 0, tokyo), "Mar 4"},
		{"last year", time.Date(2025, 12, 31, 23, 0, 0, 0, tokyo), "Dec 31, 2025"},
	}
	for _, tt := range tests {
		if got := relativeDate(tt.at, now); got != tt.want {
			t.Errorf("%s: relativeDate(%v) = %q; want %q", tt.name, tt.at, got, tt.want)
		}
	}
}

func TestPaging(t *testing.T) {
	tests := []struct {
		name                 string
		query                string
		ok                   bool
		number               int
		next                 string
		wantOlder, wantNewer string
	}{
		{"first page", "", true, 1, "T2", "/home?page=T2", ""},
		{"second page", "page=T2", true, 2, "T3", "/home?page=T3&trail=T2", "/home"},
		{"third page", "page=T3&trail=T2", true, 3, "", "", "/home?page=T2"},
		{"trail without page", "trail=T2", false, 0, "", "", ""},
		{"token with a slash", "page=a/b", false, 0, "", "", ""},
		{"token too long", "page=" + strings.Repeat("a", maxPageTokenLen+1), false, 0, "", "", ""},
		{"trail too deep", "page=x&trail=" + strings.Repeat("a.", maxTrail) + "a", false, 0, "", "", ""},
		{"empty trail step", "page=x&trail=a..b", false, 0, "", "", ""},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		p, ok := parsePaging(q)
		if ok != tt.ok {
			t.Errorf("%s: parsePaging(%q) ok = %v; want %v", tt.name, tt.query, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if p.number() != tt.number || p.olderLink(tt.next) != tt.wantOlder || p.newerLink() != tt.wantNewer {
			t.Errorf("%s: number=%d older=%q newer=%q; want %d %q %q", tt.name,
				p.number(), p.olderLink(tt.next), p.newerLink(), tt.number, tt.wantOlder, tt.wantNewer)
		}
	}
}

func TestAttemptsAreBoundedAndExpire(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var d sessionData
	for i := range 5 {
		d.addAttempt(attempt{State: string(rune('a' + i)), Started: now}, now)
	}
	if len(d.Attempts) != maxAttempts || d.Attempts[0].State != "c" {
		t.Fatalf("after 5 attempts: %d kept, oldest %q; want %d kept, oldest c", len(d.Attempts), d.Attempts[0].State, maxAttempts)
	}
	if _, ok := d.takeAttempt("e", now.Add(attemptTTL+time.Second)); ok {
		t.Errorf("takeAttempt after %v: found; want expired", attemptTTL)
	}
	d.addAttempt(attempt{State: "f", Started: now}, now)
	if _, ok := d.takeAttempt("f", now); !ok {
		t.Errorf("takeAttempt(f) = not found; want found")
	}
	if _, ok := d.takeAttempt("f", now); ok {
		t.Errorf("takeAttempt(f) twice = found; want single use")
	}
	if _, ok := d.takeAttempt("", now); ok {
		t.Errorf("takeAttempt(\"\") = found; want never")
	}
}
