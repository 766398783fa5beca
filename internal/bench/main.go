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
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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
	signInLatency               time.Duration
	rounds, connections         int
	signInRuns                  int
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
	fs.DurationVar(&s.signInLatency, "signin-latency", 200*time.Millisecond, "what the sign-in runs' sandbox adds to every request the app sends to it")
	fs.IntVar(&s.signInRuns, "signins", 7, "sign-in runs per build; each is a first sign-in of a fresh process, then a second one")
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
	apps               map[string]*appUnderTest
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
	signIns, err := b.signIns(ctx, stdout, redirects)
	if err != nil {
		return err
	}
	b.report(stdout, results, sizes, memory)
	b.reportSignIns(stdout, signIns)
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
	if err := b.launch(ctx, app, b.sandbox.url); err != nil {
		return err
	}
	var err error
	if app.cookie, err = signIn(app.proc.url, b.account); err != nil {
		return fmt.Errorf("app %s: sign in: %w", app.name, err)
	}
	return nil
}

// launch starts app's binary against the sandbox at sandboxURL, with
// nothing cached.
func (b *bench) launch(ctx context.Context, app *appUnderTest, sandboxURL string) error {
	sb := sandbox.EndpointsAt(sandboxURL)
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
	return nil
}
