package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// target is one thing loaded: a page of a server, with headers.
type target struct {
	name    string
	proc    func() *process
	path    string
	headers []string
}

// measurement is a target's result in one round.
type measurement struct {
	load
	cpuPerRequest     time.Duration // of the server loaded
	sandboxPerRequest time.Duration // of the sandbox, which the app calls
}

func (b *bench) targets() []target {
	t := []target{
		{name: "bare net/http", proc: func() *process { return b.hello }, path: "/"},
	}
	for _, name := range []string{"before", "after"} {
		app, ok := b.apps[name]
		if !ok {
			continue
		}
		t = append(t,
			target{name: name + " /", proc: func() *process { return app.proc }, path: "/"},
			target{name: name + " /home", proc: func() *process { return app.proc }, path: "/home", headers: []string{app.cookie}},
		)
	}
	after := b.apps["after"]
	return append(t, target{name: "after /home gzip", proc: func() *process { return after.proc }, path: "/home",
		headers: []string{after.cookie, "Accept-Encoding: gzip"}})
}

// throughput loads every target once a round, interleaved, so that what
// else the machine is doing weighs on all of them alike.
func (b *bench) throughput(ctx context.Context, stdout io.Writer) (map[string][]measurement, error) {
	results := map[string][]measurement{}
	for round := 1; round <= b.rounds; round++ {
		for _, t := range b.targets() {
			m, err := measure(ctx, t.proc(), b.sandbox, t.path, b.connections, b.duration, t.headers...)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			fmt.Fprintf(stdout, "round %d  %-20s %9.0f req/s  %6.0f µs CPU/request, sandbox %4.0f µs  p99 %v\n",
				round, t.name, m.perSecond, micros(m.cpuPerRequest), micros(m.sandboxPerRequest), m.p99)
			results[t.name] = append(results[t.name], m)
		}
	}
	return results, nil
}

// measure runs wrk against p and charges p's CPU time, and the sandbox's,
// to the requests.
func measure(ctx context.Context, p, sandbox *process, path string, connections int, d time.Duration, headers ...string) (measurement, error) {
	before, err := p.cpu()
	if err != nil {
		return measurement{}, err
	}
	sandboxBefore, err := sandbox.cpu()
	if err != nil {
		return measurement{}, err
	}
	l, err := runWrk(ctx, p.url+path, connections, d, headers...)
	if err != nil {
		return measurement{}, err
	}
	after, err := p.cpu()
	if err != nil {
		return measurement{}, err
	}
	sandboxAfter, err := sandbox.cpu()
	if err != nil {
		return measurement{}, err
	}
	if l.failures > 0 {
		return measurement{}, fmt.Errorf("%d of %d requests failed", l.failures, l.requests)
	}
	m := measurement{load: l}
	if l.requests > 0 {
		m.cpuPerRequest = (after - before) / time.Duration(l.requests)
		m.sandboxPerRequest = (sandboxAfter - sandboxBefore) / time.Duration(l.requests)
	}
	return m, nil
}

// pageSize is what one view of /home puts on the wire.
type pageSize struct {
	header, identity, gzip int
	encoding               string
}

func (b *bench) sizes() (map[string]pageSize, error) {
	sizes := map[string]pageSize{}
	for name, app := range b.apps {
		plain, err := fetch(app.proc.url+"/home", app.cookie, false)
		if err != nil {
			return nil, err
		}
		compressed, err := fetch(app.proc.url+"/home", app.cookie, true)
		if err != nil {
			return nil, err
		}
		sizes[name] = pageSize{header: compressed.header, identity: plain.body, gzip: compressed.body, encoding: compressed.encoding}
	}
	return sizes, nil
}

type fetched struct {
	header, body int
	encoding     string
}

// fetch GETs url as a signed-in browser would, with or without accepting
// gzip, and counts the bytes as they came: the body undecoded.
func fetch(url, cookie string, gzip bool) (fetched, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return fetched{}, err
	}
	name, value, _ := strings.Cut(cookie, ": ")
	req.Header.Set(name, value)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		return fetched{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fetched{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return fetched{}, fmt.Errorf("GET %s = %d; want 200", req.URL.Path, resp.StatusCode)
	}
	var header bytes.Buffer
	fmt.Fprintf(&header, "%s %s\r\n", resp.Proto, resp.Status)
	resp.Header.Write(&header)
	return fetched{header: header.Len() + 2, body: len(body), encoding: resp.Header.Get("Content-Encoding")}, nil
}

// memoryResult is one memory run: a fresh process loaded for a while.
type memoryResult struct {
	app                string
	connections        int
	rss, peak          int64
	perSecond          float64
	sandboxConnsOpened int64
}

// memory restarts each app, loads /home for memoryDuration at each
// connection count and reads its resident set at the end. It also counts
// the connections the sandbox accepted meanwhile: a transport that keeps
// enough idle connections opens about one per concurrent request and no more.
func (b *bench) memory(ctx context.Context, stdout io.Writer) ([]memoryResult, error) {
	var results []memoryResult
	for _, connections := range b.memoryConnections {
		for _, name := range []string{"before", "after"} {
			app, ok := b.apps[name]
			if !ok {
				continue
			}
			app.proc.stop()
			if err := b.startApp(ctx, app); err != nil {
				return nil, err
			}
			opened, err := b.sandboxConnections()
			if err != nil {
				return nil, err
			}
			// As a browser asks: compressed, which holds compressors in memory.
			l, err := runWrk(ctx, app.proc.url+"/home", connections, b.memoryDuration, app.cookie, "Accept-Encoding: gzip")
			if err != nil {
				return nil, err
			}
			rss, peak, err := app.proc.memory()
			if err != nil {
				return nil, err
			}
			openedAfter, err := b.sandboxConnections()
			if err != nil {
				return nil, err
			}
			r := memoryResult{app: name, connections: connections, rss: rss, peak: peak, perSecond: l.perSecond,
				sandboxConnsOpened: openedAfter - opened}
			fmt.Fprintf(stdout, "memory %-6s /home at %3d connections for %v: %.0f req/s, RSS %.1f MB (peak %.1f MB), %d new connections to the sandbox, %d failed\n",
				name, connections, b.memoryDuration, l.perSecond, mb(rss), mb(peak), r.sandboxConnsOpened, l.failures)
			results = append(results, r)
		}
	}
	return results, nil
}

func (b *bench) sandboxConnections() (int64, error) {
	resp, err := http.Get(b.sandbox.url + "/bench/connections")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(body), 10, 64)
}
