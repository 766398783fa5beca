package app

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// SweptDeadlines returns a listener whose connections keep the read and
// write deadlines net/http gives them in memory, and a goroutine that looks
// every second for connections past a deadline. main serves the app and
// the sandbox through it.
//
// With the server's timeouts (NewHTTPServer), net/http moves a connection's
// deadlines four to six times a request, and on a plain connection every
// move re-arms a runtime timer: on the start page that cost about 4 points
// of its share of bare net/http (side by side under wrk, 0.4 µs of CPU a
// request). Here a move is an atomic store.
//
// The price is precision: a deadline is enforced up to a second late,
// which timeouts of 5 s and more allow. A deadline less than two sweeps
// away, such as the one in the past net/http sets to stop a read at once,
// goes to the connection itself and holds to the nanosecond. A deadline
// the sweeper finds past is set on the connection, in the past, so it
// fails what waits or comes in that direction as the deadline itself
// would have, and a later deadline lifts it.
//
// Wrap the listener inside a TLS one, not outside: net/http must see the
// *tls.Conn.
func SweptDeadlines(l net.Listener) net.Listener {
	return sweptDeadlines(l, time.Second)
}

func sweptDeadlines(l net.Listener, every time.Duration) *sweptListener {
	s := &sweptListener{
		Listener: l,
		every:    every,
		epoch:    time.Now(),
		conns:    map[*sweptConn]struct{}{},
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	go s.sweep()
	return s
}

type sweptListener struct {
	net.Listener
	every time.Duration
	// Deadlines and the clock are kept as time since epoch, on the
	// monotonic clock as the runtime's deadlines are: a step of the wall
	// clock ends no connection early.
	epoch time.Time
	now   atomic.Int64 // at the last sweep

	mu      sync.Mutex
	conns   map[*sweptConn]struct{}
	closed  bool
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the sweeps end
}

// Accept wraps each connection so that its deadlines are swept.
func (s *sweptListener) Accept() (net.Conn, error) {
	c, err := s.Listener.Accept()
	if err != nil {
		return nil, err
	}
	conn := &sweptConn{Conn: c, listener: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed { // accepted as Close ran: the sweeps may have ended
		c.Close()
		return nil, net.ErrClosed
	}
	s.conns[conn] = struct{}{}
	return conn, nil
}

// Close stops accepting. The sweeps go on while connections accepted
// before are open: Shutdown lets requests in flight finish.
func (s *sweptListener) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	return s.Listener.Close()
}

// sweep fails the connections past a deadline, every s.every, until the
// listener and all its connections are closed.
func (s *sweptListener) sweep() {
	defer close(s.done)
	ticker := time.NewTicker(s.every)
	defer ticker.Stop()
	closing := s.closing
	var expired []*sweptConn
	for {
		select {
		case <-ticker.C:
		case <-closing:
			closing = nil // from now on, wait for the ticker alone
		}
		now := int64(time.Since(s.epoch))
		s.now.Store(now)
		s.mu.Lock()
		for c := range s.conns {
			if c.read.past(now) || c.write.past(now) {
				expired = append(expired, c)
			}
		}
		finished := s.closed && len(s.conns) == 0
		s.mu.Unlock()
		for _, c := range expired {
			c.read.expire(now, c.Conn.SetReadDeadline)
			c.write.expire(now, c.Conn.SetWriteDeadline)
		}
		clear(expired) // let closed connections go
		expired = expired[:0]
		if finished {
			return
		}
	}
}

// sweptConn is a connection whose deadlines a sweptListener enforces.
type sweptConn struct {
	net.Conn
	listener    *sweptListener
	read, write sweptDeadline
	closeOnce   sync.Once
	closeErr    error
}

// sweptDeadline is one direction's deadline: kept for the sweeper, or set
// on the connection itself when it is near or found past.
type sweptDeadline struct {
	at atomic.Int64 // since the listener's epoch; 0 for none kept

	// mu orders the changes of one direction, as net.Conn allows them from
	// several goroutines. It is the connection's own, so it costs no
	// waiting between requests of other connections.
	mu  sync.Mutex
	own bool // the connection itself holds a deadline
}

func (d *sweptDeadline) past(now int64) bool {
	at := d.at.Load()
	return at != 0 && at <= now
}

// set keeps t for the sweeper, or sets it on the connection through setOwn
// when it is less than two sweeps after the last sweep.
func (d *sweptDeadline) set(t time.Time, l *sweptListener, setOwn func(time.Time) error) error {
	var at int64
	if !t.IsZero() {
		at = int64(t.Sub(l.epoch))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !t.IsZero() && at < l.now.Load()+2*int64(l.every) { // a kept deadline is then never 0
		d.at.Store(0)
		d.own = true
		return setOwn(t)
	}
	d.at.Store(at)
	if d.own {
		d.own = false
		return setOwn(time.Time{})
	}
	return nil
}

// expire sets a kept deadline found past at now on the connection, unless
// it was changed since.
func (d *sweptDeadline) expire(now int64, setOwn func(time.Time) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.past(now) {
		return
	}
	d.at.Store(0)
	d.own = true
	setOwn(time.Unix(1, 0)) // as net/http's own "long ago"; a closed connection's error is no matter
}

// SetReadDeadline keeps t as the deadline for reads.
func (c *sweptConn) SetReadDeadline(t time.Time) error {
	return c.read.set(t, c.listener, c.Conn.SetReadDeadline)
}

// SetWriteDeadline keeps t as the deadline for writes.
func (c *sweptConn) SetWriteDeadline(t time.Time) error {
	return c.write.set(t, c.listener, c.Conn.SetWriteDeadline)
}

// SetDeadline keeps t as the deadline for reads and writes.
func (c *sweptConn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

// CloseWrite shuts the sending side, when the connection can: net/http
// uses it to let a client read a response before the connection closes.
func (c *sweptConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection and forgets it.
func (c *sweptConn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.Conn.Close()
		c.listener.mu.Lock()
		delete(c.listener.conns, c)
		c.listener.mu.Unlock()
	})
	return c.closeErr
}
