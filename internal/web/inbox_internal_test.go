package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/i18n"
)

func TestRelativeDate(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	now := time.Date(2026, 11, 25, 15, 30, 0, 0, tokyo)
	tests := []struct {
		name         string
		at           time.Time
		wantEnglish  string
		wantJapanese string
	}{
		{name: "seconds ago", at: now.Add(-20 * time.Second), wantEnglish: "just now", wantJapanese: "たった今"},
		{name: "a minute ago", at: now.Add(-time.Minute), wantEnglish: "1 minute ago", wantJapanese: "1分前"},
		{name: "minutes ago", at: now.Add(-3 * time.Minute), wantEnglish: "3 minutes ago", wantJapanese: "3分前"},
		{name: "an hour ago", at: now.Add(-time.Hour), wantEnglish: "1 hour ago", wantJapanese: "1時間前"},
		{name: "hours ago", at: now.Add(-15 * time.Hour), wantEnglish: "15 hours ago", wantJapanese: "15時間前"},
		{name: "later today (clock skew)", at: now.Add(2 * time.Hour), wantEnglish: "17:30", wantJapanese: "17:30"},
		{name: "yesterday", at: now.Add(-16 * time.Hour), wantEnglish: "Yesterday", wantJapanese: "昨日"},
		{name: "the day before", at: now.Add(-40 * time.Hour), wantEnglish: "Nov 23", wantJapanese: "11月23日"},
		{name: "this year", at: time.Date(2026, 3, 4, 9, 0, 0, 0, tokyo), wantEnglish: "Mar 4", wantJapanese: "3月4日"},
		{name: "later this year (clock skew)", at: time.Date(2026, 12, 31, 9, 0, 0, 0, tokyo), wantEnglish: "Dec 31", wantJapanese: "12月31日"},
		{name: "last year", at: time.Date(2025, 12, 31, 23, 0, 0, 0, tokyo), wantEnglish: "Dec 31, 2025", wantJapanese: "2025年12月31日"},
	}
	for _, tt := range tests {
		if got := relativeDate(tt.at, now, i18n.English); got != tt.wantEnglish {
			t.Errorf("%s: relativeDate(%v, en) = %q; want %q", tt.name, tt.at, got, tt.wantEnglish)
		}
		if got := relativeDate(tt.at, now, i18n.Japanese); got != tt.wantJapanese {
			t.Errorf("%s: relativeDate(%v, ja) = %q; want %q", tt.name, tt.at, got, tt.wantJapanese)
		}
	}
	newYear := time.Date(2027, 1, 1, 10, 0, 0, 0, tokyo)
	if got := relativeDate(time.Date(2026, 12, 31, 9, 0, 0, 0, tokyo), newYear, i18n.Japanese); got != "昨日" {
		t.Errorf("relativeDate(Dec 31, on Jan 1, ja) = %q; want 昨日", got)
	}
}

func TestFullDate(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 5, 0, 0, time.FixedZone("JST", 9*3600))
	for lang, want := range map[i18n.Lang]string{i18n.English: "Tue, 24 Nov 2026 09:05 JST", i18n.Japanese: "2026年11月24日（火）09:05 JST"} {
		if got := fullDate(at, lang); got != want {
			t.Errorf("fullDate(%v, %s) = %q; want %q", at, lang, got, want)
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
		{name: "first page", query: "", ok: true, number: 1, next: "T2", wantOlder: "/home?page=T2"},
		{name: "second page", query: "page=T2", ok: true, number: 2, next: "T3", wantOlder: "/home?page=T3&trail=T2", wantNewer: "/home"},
		{name: "third page", query: "page=T3&trail=T2", ok: true, number: 3, wantNewer: "/home?page=T2"},
		{name: "trail without page", query: "trail=T2"},
		{name: "token with a slash", query: "page=a/b"},
		{name: "token too long", query: "page=" + strings.Repeat("a", maxPageTokenLen+1)},
		{name: "trail too deep", query: "page=x&trail=" + strings.Repeat("a.", maxTrail) + "a"},
		{name: "empty trail step", query: "page=x&trail=a..b"},
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
