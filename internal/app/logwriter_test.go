package app_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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

// gateWriter holds its first write of a full batch until released; the
// timer's smaller batches pass.
type gateWriter struct {
	entered, release chan struct{}
	once             sync.Once
	out              apptest.LogBuffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	if len(p) >= 64<<10 {
		g.once.Do(func() {
			close(g.entered)
			<-g.release
		})
	}
	return g.out.Write(p)
}

// TestLogWriterKeepsLinesWhileABatchIsWritten: while one request writes a
// full batch, the others' lines are kept, not held up behind the write,
// also when the timer comes due meanwhile; and every line comes out once,
// in order.
func TestLogWriterKeepsLinesWhileABatchIsWritten(t *testing.T) {
	for _, interval := range []time.Duration{time.Hour, time.Millisecond} {
		t.Run(interval.String(), func(t *testing.T) {
			g := &gateWriter{entered: make(chan struct{}), release: make(chan struct{})}
			w := app.NewLogWriter(g, interval)
			line := func(name string, i int) string { return fmt.Sprintf("%s %06d %s\n", name, i, strings.Repeat("x", 100)) }

			var last atomic.Int64 // the line the filling goroutine writes now
			filled := make(chan struct{})
			go func() {
				defer close(filled)
				for i := 0; ; i++ {
					last.Store(int64(i))
					w.Write([]byte(line("before", i)))
					select {
					case <-g.entered: // this write filled the buffer and was written
						return
					default:
					}
				}
			}()
			<-g.entered

			kept := make(chan struct{})
			go func() {
				defer close(kept)
				for i := range 10 {
					w.Write([]byte(line("during", i)))
					if i == 0 && interval < time.Second {
						// Not a wait for an event: the timer comes due
						// while a line is kept and the batch is held,
						// which is the case to check.
						time.Sleep(20 * interval)
					}
				}
			}()
			select {
			case <-kept:
			case <-time.After(10 * time.Second):
				t.Fatalf("lines written during a batch's write waited for it")
			}
			close(g.release)
			<-filled
			w.Close()

			var want strings.Builder
			for i := range int(last.Load()) + 1 {
				want.WriteString(line("before", i))
			}
			for i := range 10 {
				want.WriteString(line("during", i))
			}
			if got := g.out.String(); got != want.String() {
				t.Errorf("written %d bytes; want %d: every line once, in order", len(got), want.Len())
			}
		})
	}
}
