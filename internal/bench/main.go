// Command bench measures the app against its own baseline in one run, each
// server in a process of its own: the sandbox Google, a bare net/http
// handler, the app as built now and the app as it was (any commit, built
// by `make bench`). wrk generates the load. It prints figures and ratios;
// it asserts nothing, because speed depends on the machine.
//
// The same binary serves as the sandbox ("bench sandbox") and the bare
// handler ("bench hello"), so each runs apart from the app it serves.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"gmailoauth/internal/config"
	"gmailoauth/internal/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "sandbox":
		err = serveSandbox(ctx, os.Args[2:], os.Stdout)
	case len(os.Args) > 1 && os.Args[1] == "hello":
		err = serveHello(ctx, os.Args[2:], os.Stdout)
	case len(os.Args) > 1 && os.Args[1] == "replay":
		err = serveReplay(ctx, os.Args[2:], os.Stdout)
	default:
		err = run(ctx, os.Args[1:], os.Stdout)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // the usage asked for is printed
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// settings are the bench's flags.
type settings struct {
	app, baseline, dir, account string
	duration, memoryDuration    time.Duration
	rounds, connections         int
	memoryConnections           []int
}

func parseSettings(args []string) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&s.app, "app", "", "the app binary as built now (required)")
	fs.StringVar(&s.baseline, "baseline", "", "the app binary to compare with; empty skips it")
	fs.StringVar(&s.dir, "dir", os.TempDir(), "directory for the servers' logs")
	fs.StringVar(&s.account, "account", "hanako.yamada@example.jp", "sandbox account to sign in as (hers has 75 unread)")
	fs.DurationVar(&s.duration, "duration", 5*time.Second, "length of each throughput run")
	fs.IntVar(&s.rounds, "rounds", 5, "throughput rounds; each runs every target once, and medians are reported")
	fs.IntVar(&s.connections, "connections", 32, "concurrent connections of the throughput runs")
	fs.DurationVar(&s.memoryDuration, "memory-duration", 30*time.Second, "length of each memory run")
	memory := fs.String("memory-connections", "32,256", "connections of the memory runs, comma-separated; empty skips them")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if s.app == "" {
		return s, fmt.Errorf("-app is required")
	}
	for _, field := range strings.FieldsFunc(*memory, func(r rune) bool { return r == ',' }) {
		n, err := strconv.Atoi(field)
		if err != nil || n <= 0 {
			return s, fmt.Errorf("-memory-connections: %q is not a positive number", field)
		}
		s.memoryConnections = append(s.memoryConnections, n)
	}
	return s, nil
}

// bench holds the running servers.
type bench struct {
	settings
	self, secret, keys string
	sandbox, hello     *process
	// The app's / replayed by a bare handler, without and with the app's
	// server timeouts.
	replay, replayTimed *process
	apps                map[string]*appUnderTest
}

// appUnderTest is one build of the app, signed in.
type appUnderTest struct {
	name, bin, addr string
	proc            *process
	cookie          string
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	s, err := parseSettings(args)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b := &bench{settings: s, self: self, secret: "bench-secret", keys: config.NewSessionKeys(), apps: map[string]*appUnderTest{}}
	builds := [][2]string{{"after", s.app}}
	if s.baseline != "" {
		builds = append(builds, [2]string{"before", s.baseline})
	}
	var redirects []string
	for _, build := range builds {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		b.apps[build[0]] = &appUnderTest{name: build[0], bin: build[1], addr: addr}
		redirects = append(redirects, "http://"+addr+config.CallbackPath)
	}
	if b.sandbox, err = start(ctx, "sandbox", filepath.Join(s.dir, "bench-sandbox.log"), "", nil,
		self, "sandbox", "-secret", b.secret, "-redirect", strings.Join(redirects, ",")); err != nil {
		return err
	}
	defer b.sandbox.stop()
	if b.hello, err = start(ctx, "hello", filepath.Join(s.dir, "bench-hello.log"), "", nil, self, "hello"); err != nil {
		return err
	}
	defer b.hello.stop()
	for _, app := range b.apps {
		err := b.startApp(ctx, app)
		// Deferred before the error is looked at: a process that started but
		// could not be signed in to is stopped too. memory() restarts the
		// apps, so the process stopped is the one app.proc holds by then.
		defer func() {
			if app.proc != nil {
				app.proc.stop()
			}
		}()
		if err != nil {
			return err
		}
	}
	index := b.apps["after"].proc.url + "/"
	if b.replay, err = start(ctx, "replay", filepath.Join(s.dir, "bench-replay.log"), "", nil, self, "replay", "-from", index); err != nil {
		return err
	}
	defer b.replay.stop()
	if b.replayTimed, err = start(ctx, "replay with timeouts", filepath.Join(s.dir, "bench-replay-timeouts.log"), "", nil,
		self, "replay", "-from", index, "-timeouts"); err != nil {
		return err
	}
	defer b.replayTimed.stop()

	fmt.Fprintf(stdout, "bench: sandbox, bare net/http and %d build(s) of the app, each in its own process; wrk at %d connections, %v a run, %d rounds; load average %s\n",
		len(b.apps), s.connections, s.duration, s.rounds, loadAverage())
	results, err := b.throughput(ctx, stdout)
	if err != nil {
		return err
	}
	sizes, err := b.sizes()
	if err != nil {
		return err
	}
	memory, err := b.memory(ctx, stdout)
	if err != nil {
		return err
	}
	b.report(stdout, results, sizes, memory)
	// Other work on the machine takes CPU from the servers and wrk alike,
	// but not evenly: figures taken under a high load are worth repeating.
	fmt.Fprintf(stdout, "load average at the end: %s (the machine has %d CPUs)\n", loadAverage(), runtime.NumCPU())
	return nil
}

// loadAverage is the one-minute load average, or "?" where unknown.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(data))[0]
}

// startApp starts app against the sandbox, signs in and views /home once,
// so the metadata cache is warm.
func (b *bench) startApp(ctx context.Context, app *appUnderTest) error {
	sb := sandbox.EndpointsAt(b.sandbox.url)
	env := []string{
		"ADDR=" + app.addr,
		"GOOGLE_CLIENT_ID=" + sandbox.ClientID,
		"GOOGLE_CLIENT_SECRET=" + b.secret,
		"GOOGLE_AUTH_URL=" + sb.AuthURL,
		"GOOGLE_TOKEN_URL=" + sb.TokenURL,
		"GOOGLE_REVOKE_URL=" + sb.RevokeURL,
		"GMAIL_API_URL=" + sb.GmailAPIURL,
		"SESSION_KEYS=" + b.keys,
		// One session loads /home thousands of times a second: the
		// per-session limit would measure its 429 page instead.
		"INBOX_LIMIT=0",
	}
	proc, err := start(ctx, "app "+app.name, filepath.Join(b.dir, "bench-app-"+app.name+".log"), "http://"+app.addr, env, app.bin)
	if err != nil {
		return err // start stopped it; app.proc keeps the one before, if any
	}
	app.proc = proc
	if app.cookie, err = signIn(app.proc.url, b.account); err != nil {
		return fmt.Errorf("app %s: sign in: %w", app.name, err)
	}
	if _, err := fetch(app.proc.url+"/home", app.cookie, false); err != nil {
		return fmt.Errorf("app %s: %w", app.name, err)
	}
	return nil
}

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
		{name: "replayed /", proc: func() *process { return b.replay }, path: "/"},
		{name: "replayed / timeouts", proc: func() *process { return b.replayTimed }, path: "/"},
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
	ratio("  the app's / reply replayed bare", "replayed /", "bare net/http")
	ratio("  ... with the app's server timeouts", "replayed / timeouts", "bare net/http")
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

func cpuMicros(m measurement) float64 { return micros(m.cpuPerRequest) }

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func median(ms []measurement, f func(measurement) float64) float64 {
	if len(ms) == 0 {
		return 0
	}
	values := make([]float64, len(ms))
	for i, m := range ms {
		values[i] = f(m)
	}
	slices.Sort(values)
	return values[len(values)/2]
}

func formatAll(values []float64) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strings.Join(parts, ", ")
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }
