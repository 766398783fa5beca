package apptest

import (
	"sync"
	"time"
)

// Clock is a settable clock for Options.Now, shared by the app and its
// sandbox, so a test moves both past a token's expiry without sleeping. It
// stands still unless moved.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at the wall clock's time.
func NewClock() *Clock { return NewClockAt(time.Now()) }

// NewClockAt returns a clock standing at t, for tests that start at a
// known time.
func NewClockAt(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
