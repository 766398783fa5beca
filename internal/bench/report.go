package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// report prints the summary: medians over the rounds, and ratios taken
// within each round before their median is taken.
func (b *bench) report(stdout io.Writer, results map[string][]measurement, sizes map[string]pageSize, memory []memoryResult) {
	fmt.Fprintf(stdout, "\nsummary (medians of %d rounds; ratios are taken within a round, then the median)\n", b.rounds)
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "target\treq/s\tserver CPU/request\tsandbox CPU/request\t")
	for _, t := range b.targets() {
		ms := results[t.name]
		fmt.Fprintf(w, "%s\t%.0f\t%.0f µs\t%.0f µs\t\n", t.name,
			median(ms, func(m measurement) float64 { return m.perSecond }),
			median(ms, cpuMicros),
			median(ms, func(m measurement) float64 { return micros(m.sandboxPerRequest) }))
	}
	w.Flush()
	ratio := func(label, num, den string) {
		a, b := results[num], results[den]
		if len(a) == 0 || len(b) == 0 {
			return
		}
		ratios := make([]float64, len(a))
		for i := range a {
			ratios[i] = a[i].perSecond / b[i].perSecond
		}
		slices.Sort(ratios)
		fmt.Fprintf(stdout, "%-42s %.2f (rounds: %s)\n", label, ratios[len(ratios)/2], formatAll(ratios))
	}
	ratio("after / as a share of bare net/http", "after /", "bare net/http")
	ratio("before / as a share of bare net/http", "before /", "bare net/http")
	ratio("after /home over before /home", "after /home", "before /home")
	ratio("after /home gzip over before /home", "after /home gzip", "before /home")
	if before, after := results["before /home"], results["after /home"]; len(before) > 0 && len(after) > 0 {
		fmt.Fprintf(stdout, "%-42s %.2f (app CPU per view, before over after: less disturbed by a busy machine than req/s)\n",
			"after /home over before /home, by CPU", median(before, cpuMicros)/median(after, cpuMicros))
	}
	if plain, gz := results["after /home"], results["after /home gzip"]; len(plain) > 0 && len(gz) == len(plain) {
		// Taken within a round, as the ratios are: the rounds show how much
		// of the figure is the machine's noise.
		costs := make([]float64, len(gz))
		for i := range gz {
			costs[i] = cpuMicros(gz[i]) - cpuMicros(plain[i])
		}
		slices.Sort(costs)
		fmt.Fprintf(stdout, "%-42s %.1f µs of app CPU per view (rounds: %s; the gzipped page is kept, so a repeat view only writes it)\n",
			"gzip's cost on /home", costs[len(costs)/2], formatAll(costs))
	}
	for _, name := range []string{"before", "after"} {
		if s, ok := sizes[name]; ok {
			fmt.Fprintf(stdout, "%-42s %d bytes identity, %d bytes with Accept-Encoding: gzip (Content-Encoding %q), plus %d of headers\n",
				name+" /home on the wire", s.identity, s.gzip, s.encoding, s.header)
		}
	}
	for _, m := range memory {
		fmt.Fprintf(stdout, "%-42s %.1f MB RSS (peak %.1f MB), %.0f req/s, %d sandbox connections opened\n",
			fmt.Sprintf("%s /home, %d connections, %v", m.app, m.connections, b.memoryDuration), mb(m.rss), mb(m.peak), m.perSecond, m.sandboxConnsOpened)
	}
}

// reportSignIns prints the medians of the sign-ins in Google's round trips.
func (b *bench) reportSignIns(stdout io.Writer, results map[string]roundTrips) {
	fmt.Fprintf(stdout, "\nsign-in, from /callback to the inbox's last byte, in round trips to Google (%v each; medians of %d)\n", b.signInLatency, b.signInRuns)
	for _, name := range []string{"before", "after"} {
		r, ok := results[name]
		if !ok {
			continue
		}
		fmt.Fprintf(stdout, "%-42s first %.2f (runs: %s), later %.2f (runs: %s)\n", name+" sign-in",
			medianOf(r.first), formatAll(r.first), medianOf(r.later), formatAll(r.later))
	}
}

func cpuMicros(m measurement) float64 { return micros(m.cpuPerRequest) }

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func median(ms []measurement, f func(measurement) float64) float64 {
	values := make([]float64, len(ms))
	for i, m := range ms {
		values[i] = f(m)
	}
	return medianOf(values)
}

// medianOf is the median of values, which it leaves in their order.
func medianOf(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Sorted(slices.Values(values))
	return sorted[len(sorted)/2]
}

func formatAll(values []float64) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strings.Join(parts, ", ")
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }
