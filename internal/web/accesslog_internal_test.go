package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// slogLine is the line the app's logger (log/slog, no options) writes for
// e: what every access-log line must be. It shares e.record with the slow
// path, not the hand-written formatting under test, whose attribute names
// and order it would show wrong if they differed from the record's.
func slogLine(e accessEntry, json bool) string {
	var out bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&out, nil)
	if json {
		h = slog.NewJSONHandler(&out, nil)
	}
	h.Handle(context.Background(), e.record())
	return out.String()
}

// accessLines writes lines through one access log per format, as the app
// does, so that a line may reuse the second formatted for the one before.
type accessLines struct {
	out        bytes.Buffer
	text, json *accessLog
}

func newAccessLines() *accessLines {
	l := &accessLines{}
	l.text, l.json = newAccessLog(&l.out, false), newAccessLog(&l.out, true)
	return l
}

func (l *accessLines) line(e accessEntry, json bool) string {
	l.out.Reset()
	if json {
		l.json.write(e)
	} else {
		l.text.write(e)
	}
	return l.out.String()
}

func TestAccessLogWritesWhatSlogWrites(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*60*60)
	lines := newAccessLines()
	base := accessEntry{
		time:   time.Date(2026, 11, 30, 23, 8, 41, 794_512_300, time.UTC),
		method: "GET", route: "GET /{$}", path: "/",
		status: 200, bytes: 1598, duration: 12345 * time.Nanosecond,
	}
	for _, tc := range []struct {
		name string
		edit func(*accessEntry)
	}{
		{name: "start page", edit: func(*accessEntry) {}},
		{name: "same second, later", edit: func(e *accessEntry) { e.time = e.time.Add(105 * time.Millisecond) }},
		{name: "same second, in Tokyo", edit: func(e *accessEntry) { e.time = e.time.In(tokyo) }},
		{name: "same second, a nanosecond on", edit: func(e *accessEntry) { e.time = e.time.Add(1) }},
		{name: "next second", edit: func(e *accessEntry) { e.time = e.time.Add(time.Second) }},
		{name: "back a second", edit: func(e *accessEntry) { e.time = e.time.Add(-time.Second) }},
		{name: "whole second", edit: func(e *accessEntry) { e.time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }},
		{name: "just under a millisecond", edit: func(e *accessEntry) { e.time = time.Date(2026, 1, 2, 3, 4, 5, 999_999, time.UTC) }},
		{name: "in Tokyo", edit: func(e *accessEntry) { e.time = e.time.In(tokyo) }},
		{name: "not found", edit: func(e *accessEntry) { e.route, e.path, e.status = "/", "/wp-login.php", 404 }},
		{name: "no route", edit: func(e *accessEntry) { e.route = "" }},
		{name: "no path", edit: func(e *accessEntry) { e.path = "" }},
		{name: "equals sign", edit: func(e *accessEntry) { e.path = "/a=b" }},
		{name: "space", edit: func(e *accessEntry) { e.path = "/a b" }},
		{name: "quote", edit: func(e *accessEntry) { e.path = `/"x"` }},
		{name: "backslash", edit: func(e *accessEntry) { e.path = `/a\b` }},
		{name: "html", edit: func(e *accessEntry) { e.path = "/<script>&amp;" }},
		{name: "newline", edit: func(e *accessEntry) { e.path = "/a\nlevel=ERROR msg=forged" }},
		{name: "tab and DEL", edit: func(e *accessEntry) { e.path = "/\t\x7f" }},
		{name: "japanese", edit: func(e *accessEntry) { e.path = "/受信箱" }},
		{name: "line separator", edit: func(e *accessEntry) { e.path = "/\u2028" }},
		{name: "invalid utf-8", edit: func(e *accessEntry) { e.path = "/\xff\xfe" }},
		{name: "odd method", edit: func(e *accessEntry) { e.method, e.route, e.status = "PROPFIND", "", 405 }},
		{name: "long and slow", edit: func(e *accessEntry) { e.duration, e.bytes = 8*time.Second+3*time.Millisecond, 44_606 }},
		{name: "no time at all", edit: func(e *accessEntry) { e.duration = 0 }},
	} {
		for _, json := range []bool{false, true} {
			e := base
			tc.edit(&e)
			if got, want := lines.line(e, json), slogLine(e, json); got != want {
				t.Errorf("%s (json %v):\n got %q\nwant %q", tc.name, json, got, want)
			}
		}
	}
}

// FuzzAccessLogWritesWhatSlogWrites holds the hand-formatted line to
// slog's for any path, method and numbers a request could bring.
func FuzzAccessLogWritesWhatSlogWrites(f *testing.F) {
	f.Add("GET", "/", int64(1764544121794512300), 200, 1598, int64(12345))
	f.Add("POST", "/a b=c\"\\\n", int64(0), 500, 0, int64(-1))
	lines := newAccessLines()
	f.Fuzz(func(t *testing.T, method, path string, unixNano int64, status, size int, duration int64) {
		e := accessEntry{
			time:   time.Unix(0, unixNano).UTC(),
			method: method, route: method + " /home", path: path,
			status: status, bytes: size, duration: time.Duration(duration),
		}
		if y := e.time.Year(); y < 0 || y > 9999 {
			t.Skip("slog writes years outside 0–9999 as an error")
		}
		// A second line within the same second reuses the formatted second.
		again := e
		again.time = e.time.Truncate(time.Second).Add(time.Duration(uint64(duration) % uint64(time.Second)))
		for _, json := range []bool{false, true} {
			for _, e := range []accessEntry{e, again} {
				if got, want := lines.line(e, json), slogLine(e, json); got != want {
					t.Fatalf("json %v:\n got %q\nwant %q", json, got, want)
				}
			}
		}
	})
}

// BenchmarkAccessLog compares a line through log/slog, as the app wrote
// them before, with the hand-formatted line.
func BenchmarkAccessLog(b *testing.B) {
	e := accessEntry{time: time.Now(), method: "GET", route: "GET /{$}", path: "/", status: 200, bytes: 1598, duration: 12345}
	b.Run("slog", func(b *testing.B) {
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			logger.LogAttrs(context.Background(), slog.LevelInfo, "request",
				slog.String("method", e.method), slog.String("route", e.route), slog.String("path", e.path),
				slog.Int("status", e.status), slog.Int("bytes", e.bytes), slog.Duration("duration", e.duration))
		}
	})
	b.Run("hand", func(b *testing.B) {
		l := newAccessLog(io.Discard, false)
		b.ReportAllocs()
		for b.Loop() {
			l.write(e)
		}
	})
}
