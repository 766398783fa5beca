package web

import (
	"container/list"
	"crypto/sha256"
	"strings"
	"sync"
	"time"
)

// Each person's views of the inbox are limited, because each one is a call
// to Gmail, spending the person's quota and the app's: a burst of viewBurst
// views at once, then as many a minute as INBOX_LIMIT says. A person
// reading and paging never comes near it; a script reloading the page
// does, and gets 429 with Retry-After. The count is per Google account, so
// signing in again, or in another browser, buys no fresh burst. Each
// instance counts on its own; limits per address belong at the proxy in
// front (docs/operations.md).
const (
	viewBurst = 10
	// maxBuckets bounds the limiter's memory; past it, the bucket counted
	// longest ago is forgotten.
	maxBuckets = 10_000
)

// viewLimiter is a token bucket per person. A nil one lets every view
// through.
type viewLimiter struct {
	every   time.Duration // for one view to come back
	mu      sync.Mutex
	buckets map[string]*list.Element // of recency
	recency *list.List               // of *bucket, most recently counted first
}

// bucket is one person's: views left at the time it was last counted.
type bucket struct {
	key   string
	views float64
	at    time.Time
}

// newViewLimiter allows perMinute views a minute after a burst; 0 allows
// any number.
func newViewLimiter(perMinute int) *viewLimiter {
	if perMinute == 0 {
		return nil
	}
	return &viewLimiter{every: time.Minute / time.Duration(perMinute), buckets: make(map[string]*list.Element), recency: list.New()}
}

// take counts a view by the person key names (sessionKey) at now, and
// reports whether it may go to Gmail; when not, wait is how long until it
// may.
func (l *viewLimiter) take(key string, now time.Time) (wait time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	element := l.buckets[key]
	if element == nil {
		// The bucket counted longest ago has had the longest to fill up
		// again: forgetting it, which fills it, gives away the least. Only
		// it goes, so a stranger's new sessions cannot reset everyone's.
		if len(l.buckets) >= maxBuckets {
			oldest := l.recency.Back()
			delete(l.buckets, l.recency.Remove(oldest).(*bucket).key)
		}
		element = l.recency.PushFront(&bucket{key: key, views: viewBurst, at: now})
		l.buckets[key] = element
	}
	l.recency.MoveToFront(element)
	b := element.Value.(*bucket)
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

// sessionKey names whose views a session counts toward: the Google account
// it holds, which stays the same when the person signs in again; for a
// sign-in whose account Gmail did not tell, its access token, which each
// sign-in gets its own of. It is a digest, never the token itself, since
// the limiter keeps it beyond the request, and of a fixed size whatever
// Gmail called the account.
func sessionKey(data sessionData) string {
	name := "token\x00" + data.Token.Access
	if data.Account != "" {
		name = "account\x00" + strings.ToLower(data.Account)
	}
	sum := sha256.Sum256([]byte(name))
	return string(sum[:])
}
