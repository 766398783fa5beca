package app

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// goalFor is the heap goal Go sets for a percentage, as the runtime's
// pacer works it out (mgcpacer.go): the live heap plus what it scans
// times the percentage, and at least its 4 MiB minimum scaled alike.
func goalFor(live, scanned uint64, percent int) uint64 {
	return max(live+scanned*uint64(percent)/100, (4<<20)*uint64(percent)/100)
}

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name          string
		live, scanned uint64
		want          int
	}{
		{name: "start page under load", live: 1 * mib, scanned: 3 * mib / 2, want: maxGCPercent},
		{name: "one inbox kept", live: 2 * mib, scanned: 3 * mib, want: maxGCPercent},
		{name: "between", live: 3 * mib, scanned: 4 * mib, want: 175},
		{name: "Go's own from here", live: 5 * mib, scanned: 6 * mib, want: 100},
		{name: "256 connections on /home", live: 10 * mib, scanned: 12 * mib, want: 100},
		{name: "larger than the minimum", live: 40 * mib, scanned: 41 * mib, want: 100},
		{name: "nothing measured yet", live: 0, scanned: 0, want: 100},
	} {
		got := gcPercentFor(tc.live, tc.scanned)
		if got != tc.want {
			t.Errorf("%s: gcPercentFor(%d, %d) = %d; want %d", tc.name, tc.live, tc.scanned, got, tc.want)
		}
		if goal := goalFor(tc.live, tc.scanned, got); tc.scanned > 0 && goal+tc.scanned/100 < MinimumHeap {
			t.Errorf("%s: heap goal %d at %d%%; want at least MinimumHeap (%d)", tc.name, goal, got, MinimumHeap)
		}
	}
	if goalFor(0, 1, maxGCPercent) != MinimumHeap {
		t.Errorf("maxGCPercent %d makes Go's minimum %d; want MinimumHeap (%d)", maxGCPercent, goalFor(0, 1, maxGCPercent), MinimumHeap)
	}
}

// gcPercent is the GC percentage in force.
func gcPercent() uint64 {
	sample := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// collectUntil runs collections until the percentage is want: the
// tuning sets it in a cleanup that runs after a collection.
func collectUntil(t *testing.T, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for range 10_000 {
		runtime.GC()
		runtime.Gosched()
		if gcPercent() == want {
			return
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("GC percentage = %d after collecting; want %d", gcPercent(), want)
}

// TestKeepMinimumHeapFollowsTheLiveHeap checks the tuning after real
// collections: the most while the heap is small, Go's own 100 once the
// live heap holds more than the minimum, the most again when it is
// freed, and the percentage there was once stopped.
func TestKeepMinimumHeapFollowsTheLiveHeap(t *testing.T) {
	before := gcPercent()
	stop := KeepMinimumHeap()
	collectUntil(t, maxGCPercent)

	func() {
		held := make([]*[1 << 20]byte, 2*MinimumHeap>>20)
		for i := range held {
			held[i] = new([1 << 20]byte)
		}
		collectUntil(t, 100)
		runtime.KeepAlive(held)
	}()
	collectUntil(t, maxGCPercent)

	stop()
	if got := gcPercent(); got != before {
		t.Errorf("GC percentage after stop = %d; want %d, as before", got, before)
	}
}
