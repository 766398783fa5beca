package web

import (
	"fmt"
	"testing"
	"time"
)

// TestViewLimiterForgetsTheOldestWhenFull: with maxBuckets people busy, a
// new one makes the limiter forget only the person counted longest ago;
// everyone else keeps their count.
func TestViewLimiterForgetsTheOldestWhenFull(t *testing.T) {
	l := newViewLimiter(60)
	start := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	// Every person uses their burst, person i at start+i µs: none has a
	// view back by the end (one comes back a second after the last).
	at := func(i int) time.Time { return start.Add(time.Duration(i) * time.Microsecond) }
	for i := range maxBuckets {
		for range viewBurst {
			if _, ok := l.take(fmt.Sprint(i), at(i)); !ok {
				t.Fatalf("take(%d) refused within its burst", i)
			}
		}
	}
	now := at(maxBuckets)

	if _, ok := l.take("newcomer", now); !ok {
		t.Fatalf("take(newcomer) refused; want its burst")
	}

	if got := len(l.buckets); got != maxBuckets {
		t.Errorf("limiter holds %d buckets; want maxBuckets = %d", got, maxBuckets)
	}
	for _, i := range []int{1, maxBuckets / 2, maxBuckets - 1} {
		if wait, ok := l.take(fmt.Sprint(i), now); ok {
			t.Errorf("take(%d) after a newcomer = ok; want refused, its burst used (a second to wait, got %v)", i, wait)
		}
	}
	// Person 0, counted longest ago, was forgotten: a fresh burst.
	if _, ok := l.take("0", now); !ok {
		t.Errorf("take(0) = refused; want it forgotten, the oldest")
	}
}
