package sandbox

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// commandShutdownTimeout bounds how long requests in flight may take to
// finish once Main's ctx is done.
const commandShutdownTimeout = 5 * time.Second

// Main serves the sandbox on its own, for anyone building a Gmail client,
// until ctx is done: `gmailoauth sandbox [flags]`. It binds before it
// serves, then prints the settings to configure a client with, one
// NAME=value a line, on stdout; logs go to stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintln(stderr, "Usage: gmailoauth sandbox [flags]\n\nServes the sandbox Google alone and prints the settings to point a client at it.\n\nFlags:")
		flags.PrintDefaults()
	}
	var (
		addr         = flags.String("addr", "127.0.0.1:8081", "address to listen on")
		clientID     = flags.String("client-id", ClientID, "the one OAuth client the sandbox knows")
		clientSecret = flags.String("client-secret", "", "its secret (default: random, printed at start)")
		redirectURIs stringList
		opts         = Options{}
		rates        FaultRates
		latency      time.Duration
		shuffle      bool
	)
	flags.Var(&redirectURIs, "redirect-uri", "a registered redirect URI, compared byte for byte; repeat for more (default http://127.0.0.1:5000/callback)")
	flags.DurationVar(&opts.AccessTokenTTL, "access-token-ttl", DefaultAccessTokenTTL, "lifetime of access tokens")
	flags.DurationVar(&opts.CodeTTL, "code-ttl", DefaultCodeTTL, "lifetime of authorization codes and consent pages")
	flags.DurationVar(&latency, "latency", 0, "delay added to every Gmail call and batch part")
	flags.Float64Var(&rates.P500, "fail-500", 0, "share of Gmail calls answered 500 (0 to 1)")
	flags.Float64Var(&rates.P429, "fail-429", 0, "share of Gmail calls answered 429 Too many concurrent requests")
	flags.Float64Var(&rates.P403, "fail-403", 0, "share of Gmail calls answered 403 userRateLimitExceeded")
	flags.Float64Var(&rates.PSlow, "slow", 0, "share of Gmail calls held back by -slow-delay")
	flags.DurationVar(&rates.SlowDelay, "slow-delay", 5*time.Second, "how long a slow call is held back")
	flags.Float64Var(&rates.PMalformed, "malformed", 0, "share of Gmail calls answered with a body cut in half")
	flags.DurationVar(&rates.RetryAfter, "retry-after", 0, "Retry-After of the 429s and 403s")
	flags.BoolVar(&shuffle, "shuffle-batch", false, "answer batch parts out of order, as Google may")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("sandbox: unexpected arguments %q", flags.Args())
	}
	if total := rates.P500 + rates.P429 + rates.P403 + rates.PSlow + rates.PMalformed; total > 1 || min(rates.P500, rates.P429, rates.P403, rates.PSlow, rates.PMalformed) < 0 {
		return fmt.Errorf("sandbox: fault shares must be from 0 to 1 and add up to at most 1, not %v", total)
	}
	if *clientSecret == "" {
		*clientSecret = randomToken("GOCSPX-")
	}
	if len(redirectURIs) == 0 {
		redirectURIs = stringList{"http://127.0.0.1:5000/callback"}
	}
	opts.ClientID, opts.ClientSecret, opts.RedirectURIs = *clientID, *clientSecret, redirectURIs
	opts.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	sb, err := New(opts)
	if err != nil {
		return err
	}
	sb.SetLatency(latency)
	sb.SetFaultRates(rates)
	sb.ShuffleBatchResponses(shuffle)

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	base := "http://" + listener.Addr().String()
	server := &http.Server{
		Handler:           sb,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- server.Serve(listener) }()
	if err := printSettings(stdout, base, opts, sb.Accounts()); err != nil {
		server.Close()
		return err
	}

	select {
	case err = <-done:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), commandShutdownTimeout)
		defer cancel()
		err = server.Shutdown(shutdownCtx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// printSettings tells how to point a client at the sandbox: the settings
// this app reads, which name every endpoint.
func printSettings(w io.Writer, base string, opts Options, accounts []string) error {
	endpoints := EndpointsAt(base)
	_, err := fmt.Fprintf(w, `# The sandbox Google is listening on %s. Point a client at it with:
GOOGLE_CLIENT_ID=%s
GOOGLE_CLIENT_SECRET=%s
GOOGLE_AUTH_URL=%s
GOOGLE_TOKEN_URL=%s
GOOGLE_REVOKE_URL=%s
GMAIL_API_URL=%s
# Registered redirect URIs: %s
# Userinfo: %s; Gmail batch: %s
# Accounts on the consent page: %s
`, base, opts.ClientID, opts.ClientSecret, endpoints.AuthURL, endpoints.TokenURL, endpoints.RevokeURL, endpoints.GmailAPIURL,
		strings.Join(opts.RedirectURIs, " "), base+UserinfoPath, base+GmailBatchPath, strings.Join(accounts, ", "))
	return err
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

func (l *stringList) Set(value string) error {
	*l = append(*l, value)
	return nil
}
