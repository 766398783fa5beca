package web

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Each session's views of the inbox are limited, because each one is a
// call to Gmail, spending the person's quota and the app's: a burst of
// viewBurst views at once, then as many a minute as INBOX_LIMIT says. A
// person reading and paging never comes near it; a script reloading the
// page does, and gets 429 with Retry-After. Each instance counts on its
// own; limits per address belong at the proxy in front
// (docs/operations.md).
const (
	viewBurst = 10
	// maxBuckets bounds the limiter's memory; past it, the buckets of the
	// sessions away long enough to be full again are dropped.
	maxBuckets = 10_000
)

// viewLimiter is a token bucket per session. A nil one lets every view
// through.
type viewLimiter struct {
	every   time.Duration // for one view to come back
	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is one session's: views left at the time it was last counted.
type bucket struct {
	views float64
	at    time.Time
}

// newViewLimiter allows perMinute views a minute after a burst; 0 allows
// any number.
func newViewLimiter(perMinute int) *viewLimiter {
	if perMinute == 0 {
		return nil
	}
	return &viewLimiter{every: time.Minute / time.Duration(perMinute), buckets: make(map[string]*bucket)}
}

// take counts a view by session at now, and reports whether it may go to
// Gmail; when not, wait is how long until it may.
func (l *viewLimiter) take(session string, now time.Time) (wait time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[session]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.dropFull(now)
		}
		b = &bucket{views: viewBurst, at: now}
		l.buckets[session] = b
	}
	b.views = l.refilled(b, now)
	b.at = now
	if b.views < 1 {
		return time.Duration((1 - b.views) * float64(l.every)), false
	}
	b.views--
	return 0, true
}

// refilled is how many views b holds at now.
func (l *viewLimiter) refilled(b *bucket, now time.Time) float64 {
	return min(viewBurst, b.views+float64(now.Sub(b.at))/float64(l.every))
}

// dropFull forgets the buckets that would be full by now: forgetting one
// changes nothing. If every session is still busy, it forgets them all,
// which errs toward letting views through.
func (l *viewLimiter) dropFull(now time.Time) {
	for session, b := range l.buckets {
		if l.refilled(b, now) >= viewBurst {
			delete(l.buckets, session)
		}
	}
	if len(l.buckets) >= maxBuckets {
		clear(l.buckets)
	}
}

// sessionKey names a session for the limiter: a digest of its access token,
// which each sign-in gets its own of (never the token itself: the limiter
// keeps it beyond the request).
func sessionKey(data sessionData) string {
	sum := sha256.Sum256([]byte(data.Token.Access))
	return string(sum[:])
}
