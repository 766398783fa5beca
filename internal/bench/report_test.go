package main

import (
	"strings"
	"testing"
	"time"
)

// TestReportTakesGzipCostWithinRounds: gzip's cost is the median of each
// round's difference, with the rounds shown, as the ratios are; a
// difference of the two medians would hide how much of it is noise.
func TestReportTakesGzipCostWithinRounds(t *testing.T) {
	cpu := func(micros ...int) []measurement {
		var ms []measurement
		for _, m := range micros {
			ms = append(ms, measurement{load: load{perSecond: 1000}, cpuPerRequest: time.Duration(m) * time.Microsecond})
		}
		return ms
	}
	b := &bench{settings: settings{rounds: 3}, apps: map[string]*appUnderTest{"after": {}}}
	var out strings.Builder
	b.report(&out, map[string][]measurement{
		"after /home":      cpu(100, 140, 120),
		"after /home gzip": cpu(103, 139, 130),
	}, nil, nil)
	const want = "gzip's cost on /home                       3.0 µs of app CPU per view (rounds: -1.00, 3.00, 10.00;"
	if !strings.Contains(out.String(), want) {
		t.Errorf("report:\n%s\nwant a line starting %q", out.String(), want)
	}
}
