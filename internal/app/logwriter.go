package app

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// LogWriter gathers log lines and writes them in batches, at most every
// interval apart. The access log writes a line per request; written one by
// one, each costs a system call, which on a page as cheap as the start page
// is a large part of the request. Lines reach w within the interval, and
// all of them by Close.
type LogWriter struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// logBufferSize holds a few hundred lines; a burst beyond it is written at
// once, by the request that fills it.
const logBufferSize = 64 << 10

// NewLogWriter starts a LogWriter that writes to w at least every interval.
func NewLogWriter(w io.Writer, interval time.Duration) *LogWriter {
	l := &LogWriter{buf: bufio.NewWriterSize(w, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				l.Flush()
			case <-l.stop:
				return
			}
		}
	}()
	return l
}

// Write keeps p for the next batch.
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Flush writes what is kept now.
func (l *LogWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Flush()
}

// Close stops the timer and writes what is left; later writes are kept
// until the next Flush.
func (l *LogWriter) Close() error {
	close(l.stop)
	<-l.done
	return l.Flush()
}
