package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// load is one wrk run's result.
type load struct {
	requests  int64
	perSecond float64
	failures  int64 // non-2xx/3xx responses and socket errors
	p99       time.Duration
}

// runWrk loads url from connections connections for d with wrk, which is
// written in C and so leaves more of a small machine to the server than a
// load generator in Go would.
func runWrk(ctx context.Context, url string, connections int, d time.Duration, headers ...string) (load, error) {
	args := []string{"-t", "2", "-c", strconv.Itoa(connections), "-d", d.String(), "--timeout", "10s", "--latency"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	out, err := exec.CommandContext(ctx, "wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return load{}, fmt.Errorf("wrk %s: %w\n%s", url, err, out)
	}
	return parseWrk(string(out))
}

var (
	wrkTotal    = regexp.MustCompile(`(\d+) requests in`)
	wrkRate     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkP99      = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)\b`)
	wrkDuration = map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}
)

// parseWrk reads the figures the bench uses from wrk's report.
func parseWrk(out string) (load, error) {
	total, rate := wrkTotal.FindStringSubmatch(out), wrkRate.FindStringSubmatch(out)
	if total == nil || rate == nil {
		return load{}, fmt.Errorf("wrk: unexpected report:\n%s", out)
	}
	var l load
	l.requests, _ = strconv.ParseInt(total[1], 10, 64)
	l.perSecond, _ = strconv.ParseFloat(rate[1], 64)
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		l.failures += n
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			l.failures += n
		}
	}
	if m := wrkP99.FindStringSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		l.p99 = time.Duration(v * float64(wrkDuration[m[2]]))
	}
	return l, nil
}
