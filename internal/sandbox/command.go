package sandbox

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"gmailoauth/internal/sandbox/oauth"
)

// commandShutdownTimeout bounds how long requests in flight may take to
// finish once Main's ctx is done.
const commandShutdownTimeout = 5 * time.Second

// defaultAddr is where the standalone sandbox listens unless -addr or
// SANDBOX_ADDR says otherwise.
const defaultAddr = "127.0.0.1:8081"

// Main serves the sandbox on its own, for anyone building a Gmail client,
// until ctx is done: `gmailoauth sandbox [flags]`. It listens on -addr,
// else on getenv's SANDBOX_ADDR, as the app's own sandbox does. It binds
// before it serves, through newServer (main gives it the app's, so the
// sandbox keeps the app's timeouts), then prints the settings to configure
// a client with, one NAME=value a line, on stdout; logs go to stderr.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, newServer func(http.Handler, *slog.Logger) *http.Server) error {
	flags := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	// A mistake is one line; -h prints the usage.
	flags.SetOutput(io.Discard)
	var (
		addr         = flags.String("addr", "", "address to listen on (default $SANDBOX_ADDR, else "+defaultAddr+")")
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
	flags.DurationVar(&latency, "latency", 0, "delay added to every request an app server sends: token, revoke, each Gmail call, a batch as a whole")
	flags.Float64Var(&rates.P500, "fail-500", 0, "share of Gmail calls answered 500 (0 to 1)")
	flags.Float64Var(&rates.P429, "fail-429", 0, "share of Gmail calls answered 429 Too many concurrent requests")
	flags.Float64Var(&rates.P403, "fail-403", 0, "share of Gmail calls answered 403 userRateLimitExceeded")
	flags.Float64Var(&rates.PSlow, "slow", 0, "share of Gmail calls held back by -slow-delay")
	flags.DurationVar(&rates.SlowDelay, "slow-delay", 5*time.Second, "how long a slow call is held back")
	flags.Float64Var(&rates.PMalformed, "malformed", 0, "share of Gmail calls answered with a body cut in half")
	flags.DurationVar(&rates.RetryAfter, "retry-after", 0, "Retry-After of the 429s and 403s")
	flags.BoolVar(&shuffle, "shuffle-batch", false, "answer batch parts out of order, as Google may")
	flags.BoolVar(&opts.Strict, "strict", false, "refuse what Google accepts but an app should not send (PKCE without S256, other scopes than the app's, …; see docs/sandbox.md)")
	flags.StringVar(&opts.AutoApprove, "auto-approve", "", "answer every authorization request at once for this account, with no page (prompt=none keeps its meaning)")
	if err := flags.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, "Usage: gmailoauth sandbox [flags]\n\nServes the sandbox Google alone and prints the settings to point a client at it.\n\nFlags:")
		flags.SetOutput(stderr)
		flags.PrintDefaults()
		return nil
	} else if err != nil {
		return fmt.Errorf("sandbox: %w; see gmailoauth sandbox -h", err)
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("sandbox: unexpected arguments %q; see gmailoauth sandbox -h", flags.Args())
	}
	if total := rates.P500 + rates.P429 + rates.P403 + rates.PSlow + rates.PMalformed; total > 1 || min(rates.P500, rates.P429, rates.P403, rates.PSlow, rates.PMalformed) < 0 {
		return fmt.Errorf("sandbox: fault shares must be from 0 to 1 and add up to at most 1, not %v", total)
	}
	if *clientSecret == "" {
		*clientSecret = oauth.RandomToken("GOCSPX-")
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

	variable := "-addr"
	if *addr == "" {
		variable, *addr = "SANDBOX_ADDR", cmp.Or(getenv("SANDBOX_ADDR"), defaultAddr)
	}
	WarnBeyondLoopback(opts.Logger, variable, *addr)
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox: %s: %w", variable, err)
	}
	base := BaseURL(listener.Addr())
	server := newServer(sb, opts.Logger)
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
		opts.Logger.Info("the sandbox Google has stopped", "url", base)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// printSettings tells how to point a client at the sandbox: the settings
// this app reads, which name every endpoint, then where Google's own
// client libraries take them.
func printSettings(w io.Writer, base string, opts Options, accounts []string) error {
	endpoints := EndpointsAt(base)
	_, err := fmt.Fprintf(w, `# The sandbox Google is listening on %[1]s. This app reads these settings:
GOOGLE_CLIENT_ID=%[2]s
GOOGLE_CLIENT_SECRET=%[3]s
GOOGLE_AUTH_URL=%[4]s
GOOGLE_TOKEN_URL=%[5]s
GOOGLE_REVOKE_URL=%[6]s
GMAIL_API_URL=%[7]s
# Registered redirect URIs: %[8]s
# OpenID Connect issuer %[1]s (discovery %[1]s%[9]s; userinfo %[1]s%[10]s)
# Gmail discovery document %[1]s/discovery/v1/apis/gmail/v1/rest; batch %[1]s/batch
# Go, golang.org/x/oauth2 and google.golang.org/api/gmail/v1:
#   oauth2.Config{Endpoint: oauth2.Endpoint{AuthURL: "%[4]s", TokenURL: "%[5]s"}, …}
#   gmail.NewService(ctx, option.WithEndpoint("%[1]s/"), option.WithHTTPClient(config.Client(ctx, token)))
# Python, google-auth-oauthlib and googleapiclient:
#   Flow.from_client_config({"web": {…, "auth_uri": "%[4]s", "token_uri": "%[5]s"}}, scopes)
#   build("gmail", "v1", credentials=creds, discoveryServiceUrl="%[1]s/discovery/v1/apis/{api}/{apiVersion}/rest")
# Node, googleapis:
#   new google.auth.OAuth2({…, endpoints: {oauth2AuthBaseUrl: "%[4]s", oauth2TokenUrl: "%[5]s",
#     oauth2FederatedSignonPemCertsUrl: "%[1]s%[12]s", tokenInfoUrl: "%[1]s%[13]s"}, issuers: ["%[1]s"]})
#   google.gmail({version: "v1", auth, rootUrl: "%[1]s/"})
# Accounts on the consent page: %[11]s
`, base, opts.ClientID, opts.ClientSecret, endpoints.AuthURL, endpoints.TokenURL, endpoints.RevokeURL, endpoints.GmailAPIURL,
		strings.Join(opts.RedirectURIs, " "), DiscoveryPath, UserinfoPath, strings.Join(accounts, ", "), PEMCertsPath, TokeninfoPath)
	return err
}

// WarnBeyondLoopback warns on log, before a sandbox listens at addr (set
// by variable), when addr is not loopback only (a loopback IP, or
// localhost): anyone who reaches the sandbox can sign in as its accounts
// and read their mail.
func WarnBeyondLoopback(log *slog.Logger, variable, addr string) {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	if err == nil && (host == "localhost" || ip != nil && ip.IsLoopback()) {
		return
	}
	log.Warn("the sandbox Google listens beyond loopback: anyone who reaches it can sign in as its accounts and read their mail", variable, addr)
}

// BaseURL is the URL a client on this machine dials for a sandbox
// listening at addr: a listener on every interface (0.0.0.0:8081, [::]:8081
// or :8081) answers on 127.0.0.1, while [::] in a client's settings would be
// of no use.
func BaseURL(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	return "http://" + addr.String()
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, " ") }

func (l *stringList) Set(value string) error {
	*l = append(*l, value)
	return nil
}
