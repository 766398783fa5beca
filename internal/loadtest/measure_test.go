package loadtest

import (
	"bytes"
	"context"
	"log/slog"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
)

// logCounter is a slog handler that counts what the app logs instead of
// printing it: panics (the record recoverPanics writes) and errors.
type logCounter struct {
	panics, errors atomic.Int64
	mu             sync.Mutex
	first          string // the first panic, for the failure message
}

func (l *logCounter) logger() *slog.Logger { return slog.New(l) }

// Enabled skips debug records, which only the sandbox and the Gmail
// client's retries write, and which are never panics.
func (l *logCounter) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		l.errors.Add(1)
	}
	if r.Message != "panic" {
		return nil
	}
	l.panics.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == "" {
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "stack" {
				b.WriteString(a.String() + " ")
			}
			return true
		})
		l.first = b.String()
	}
	return nil
}

func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }

func (l *logCounter) firstPanic() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}

// goroutineDump lists the goroutines, grouped by stack, to show what leaked.
func goroutineDump() string {
	var buf bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&buf, 1)
	const limit = 16 << 10
	if buf.Len() > limit {
		return buf.String()[:limit] + "…"
	}
	return buf.String()
}
