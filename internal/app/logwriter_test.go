package app_test

import (
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/app"
	"gmailoauth/internal/apptest"
)

func TestLogWriter(t *testing.T) {
	var out apptest.LogBuffer
	// An interval longer than any test: lines arrive by Flush and Close.
	w := app.NewLogWriter(&out, time.Hour)
	w.Write([]byte("one\n"))
	if got := out.String(); got != "" {
		t.Errorf("after a write, before a flush: %q written; want nothing yet", got)
	}
	w.Flush()
	w.Write([]byte("two\n"))
	big := strings.Repeat("x", 100<<10) + "\n"
	w.Write([]byte(big)) // beyond the buffer: written at once
	if got := out.String(); !strings.HasPrefix(got, "one\ntwo\nxxx") || len(got) < 64<<10 {
		t.Errorf("after a flush and a write beyond the buffer: %d bytes written; want the lines before it and a buffer's worth", len(got))
	}
	w.Write([]byte("three\n"))
	w.Close()
	if got := out.String(); !strings.HasSuffix(got, big+"three\n") {
		t.Errorf("after Close: ends %q; want the last line written", got[max(0, len(got)-10):])
	}
}

// notifyingWriter passes each write on to a channel.
type notifyingWriter chan string

func (n notifyingWriter) Write(p []byte) (int, error) {
	n <- string(p)
	return len(p), nil
}

func TestLogWriterFlushesOnItsOwn(t *testing.T) {
	out := make(notifyingWriter, 1)
	w := app.NewLogWriter(out, time.Millisecond)
	defer w.Close()
	w.Write([]byte("line\n"))
	// Nothing but the writer's own timer flushes; the test binary's timeout
	// bounds the wait.
	if got := <-out; got != "line\n" {
		t.Errorf("flushed %q; want the line", got)
	}
}
