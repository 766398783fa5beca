package web

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// accessLog writes the access log: a line per request, exactly as the
// app's logger writes its other lines (log/slog's text or JSON handler,
// as LOG_FORMAT says), with the message "request". It formats the line
// itself because through log/slog the line cost more than the rest of the
// app's handling of the start page: slog records the caller, copies the
// attributes and formats them generically, about 0.8 µs a line against
// 0.08 µs here (BenchmarkAccessLog). A value slog would quote or escape (a
// path with a space or a non-ASCII letter, say) is rare, and that line
// goes through slog, so every line is what slog would have written.
type accessLog struct {
	w      io.Writer // safe for concurrent use: a line is one Write
	json   bool
	slow   slog.Handler           // the same format on w, for values slog would escape
	lines  sync.Pool              // of *[]byte
	second atomic.Pointer[second] // the last line's, formatted
}

// accessEntry is what one line says.
type accessEntry struct {
	time                time.Time // when the response was written
	method, route, path string
	status, bytes       int
	duration            time.Duration
}

// record is e as a log/slog record: what the line says, in the order it
// says it.
func (e accessEntry) record() slog.Record {
	r := slog.NewRecord(e.time, slog.LevelInfo, "request", 0)
	r.AddAttrs(
		slog.String("method", e.method),
		slog.String("route", e.route),
		slog.String("path", e.path),
		slog.Int("status", e.status),
		slog.Int("bytes", e.bytes),
		slog.Duration("duration", e.duration),
	)
	return r
}

// newAccessLog writes lines to w, as JSON if json; a nil w drops them. w
// must take writes from many goroutines, each a whole line, without
// mixing them up, as app.LogWriter does.
func newAccessLog(w io.Writer, json bool) *accessLog {
	l := &accessLog{w: w, json: json}
	if w == nil {
		return l
	}
	if json {
		l.slow = slog.NewJSONHandler(w, nil)
	} else {
		l.slow = slog.NewTextHandler(w, nil)
	}
	return l
}

// write writes e's line.
func (l *accessLog) write(e accessEntry) {
	if l.w == nil {
		return
	}
	if !plain(e.method) || !plain(e.route) || !plain(e.path) {
		l.slow.Handle(context.Background(), e.record())
		return
	}
	line, _ := l.lines.Get().(*[]byte)
	if line == nil {
		line = new([]byte)
	}
	if l.json {
		*line = l.appendJSON((*line)[:0], e)
	} else {
		*line = l.appendText((*line)[:0], e)
	}
	l.w.Write(*line)
	l.lines.Put(line)
}

// appendText is slog's TextHandler line for e, whose strings are plain.
func (l *accessLog) appendText(b []byte, e accessEntry) []byte {
	b = append(b, "time="...)
	b = l.appendTime(b, e.time)
	b = append(b, " level=INFO msg=request method="...)
	b = appendTextString(b, e.method)
	b = append(b, " route="...)
	b = appendTextString(b, e.route)
	b = append(b, " path="...)
	b = appendTextString(b, e.path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, int64(e.bytes), 10)
	b = append(b, " duration="...)
	b = append(b, e.duration.String()...)
	return append(b, '\n')
}

// appendJSON is slog's JSONHandler line for e, whose strings are plain.
func (l *accessLog) appendJSON(b []byte, e accessEntry) []byte {
	b = append(b, `{"time":"`...)
	b = l.appendTime(b, e.time)
	b = append(b, `","level":"INFO","msg":"request","method":"`...)
	b = append(b, e.method...)
	b = append(b, `","route":"`...)
	b = append(b, e.route...)
	b = append(b, `","path":"`...)
	b = append(b, e.path...)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(e.bytes), 10)
	// slog writes a duration in JSON as json.Marshal does: nanoseconds.
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(e.duration), 10)
	return append(b, "}\n"...)
}

// second is a second of time as a line shows it: what every line written
// within it shares.
type second struct {
	unix int64
	loc  *time.Location
	date []byte // 2006-01-02T15:04:05
	zone []byte // Z or +09:00
}

// appendTime writes t as slog does: to the millisecond, truncated, in text
// (three digits always); in JSON as RFC 3339 with nanoseconds, trailing
// zeros dropped (none if there are none). Formatting a time with
// time.Format cost more than the rest of the line, so the second is
// formatted once and kept. A second has one offset from UTC: zones change
// theirs on a second's boundary.
func (l *accessLog) appendTime(b []byte, t time.Time) []byte {
	s := l.second.Load()
	if s == nil || s.unix != t.Unix() || s.loc != t.Location() {
		s = &second{
			unix: t.Unix(), loc: t.Location(),
			date: t.AppendFormat(nil, "2006-01-02T15:04:05"),
			zone: t.AppendFormat(nil, "Z07:00"),
		}
		l.second.Store(s)
	}
	b = append(b, s.date...)
	if ns := t.Nanosecond(); !l.json {
		b = append(b, '.', byte('0'+ns/1e8), byte('0'+ns/1e7%10), byte('0'+ns/1e6%10))
	} else if ns != 0 {
		var digits [9]byte
		for i := len(digits) - 1; i >= 0; i-- {
			digits[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(digits)
		for digits[n-1] == '0' {
			n--
		}
		b = append(append(b, '.'), digits[:n]...)
	}
	return append(b, s.zone...)
}

// plain reports whether s is printable ASCII without a quote or a
// backslash: what both of slog's handlers write unescaped.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendTextString writes a plain s as slog's TextHandler does: in quotes
// when empty or when it holds a space or an equals sign, which for a plain
// string is all strconv.Quote would add.
func appendTextString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '=' {
			return append(append(append(b, '"'), s...), '"')
		}
	}
	if s == "" {
		return append(b, `""`...)
	}
	return append(b, s...)
}
