package app

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// MinimumHeap is the heap size below which the app does not collect
// garbage, in place of Go's 4 MiB. The app's live heap is small, 1 to 2 MB
// with its cache cold or one person's inbox kept, and with Go's default
// the heap is collected every 3 MB or so of allocation: on the start page
// under load a collection every thousand requests or so, a tenth of the
// CPU. From a live heap of about 5 MB on, the goal is Go's own (GOGC=100),
// so the resident set where it is largest (256 connections viewing
// /home) is unchanged; see README "Performance" for the figures.
const MinimumHeap = 10 << 20

// maxGCPercent bounds the GC percentage the tuning sets. Go scales its
// minimum heap with the percentage (4 MiB × GOGC/100), so a percentage of
// 250 is what makes the minimum 10 MiB.
const maxGCPercent = 100 * MinimumHeap / (4 << 20)

// KeepMinimumHeap raises Go's minimum heap to MinimumHeap by setting the
// GC percentage after every collection: as much as maxGCPercent while the
// live heap is small, back to 100 once the heap goal that gives is above
// the minimum anyway. A GOMEMLIMIT still bounds the heap, as Go
// documents. main calls it only when GOGC is not set, leaving an
// operator's choice alone. stop ends the tuning and puts back the
// percentage there was.
func KeepMinimumHeap() (stop func()) {
	t := &heapTuner{samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"},
	}}
	t.before = debug.SetGCPercent(maxGCPercent)
	t.percent = maxGCPercent
	t.arm()
	return func() {
		t.stopped.Store(true)
		debug.SetGCPercent(t.before)
	}
}

// heapTuner sets the GC percentage after each collection.
type heapTuner struct {
	stopped atomic.Bool
	before  int // the percentage before tuning began
	// Touched only by the cleanup that runs after each collection; cleanups
	// of one sentinel run one after the other.
	samples []metrics.Sample
	percent int
}

// gcSentinel is an object nothing refers to: its cleanup runs after the
// collection that finds it unreachable. It holds a pointer so that it is
// not packed with other small objects, which could keep it alive.
type gcSentinel struct{ _ *byte }

func (t *heapTuner) arm() {
	runtime.AddCleanup(new(gcSentinel), (*heapTuner).afterGC, t)
}

func (t *heapTuner) afterGC() {
	if t.stopped.Load() {
		return
	}
	metrics.Read(t.samples)
	live := t.samples[0].Value.Uint64()
	scanned := live + t.samples[1].Value.Uint64() + t.samples[2].Value.Uint64()
	if percent := gcPercentFor(live, scanned); percent != t.percent {
		debug.SetGCPercent(percent)
		t.percent = percent
	}
	t.arm()
}

// gcPercentFor is the GC percentage that puts the next heap goal at
// MinimumHeap or above, given the live heap and what the collector scans
// (the live heap, stacks and globals): Go's goal is the live heap plus
// scanned × percent/100, and at least 4 MiB × percent/100. It is between
// 100 and maxGCPercent.
func gcPercentFor(live, scanned uint64) int {
	if live >= MinimumHeap || scanned == 0 {
		return 100
	}
	percent := int((MinimumHeap - live) * 100 / scanned)
	return min(max(percent, 100), maxGCPercent)
}
