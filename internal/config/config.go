// Package config reads the app's settings from flags and environment
// variables and checks them, so that a bad setting stops the start with one
// line naming the variable instead of failing later in front of a person.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Google's production endpoints; every one can be overridden so that a
// stand-in can take Google's place.
const (
	DefaultAuthURL     = "https://accounts.google.com/o/oauth2/v2/auth"
	DefaultTokenURL    = "https://oauth2.googleapis.com/token"
	DefaultRevokeURL   = "https://oauth2.googleapis.com/revoke"
	DefaultGmailAPIURL = "https://gmail.googleapis.com"
)

// defaultSandboxAddr is where the built-in sandbox Google listens unless
// SANDBOX_ADDR says otherwise.
const defaultSandboxAddr = "127.0.0.1:5001"

// CallbackPath is the route the app serves Google's redirect back at; a
// REDIRECT_URL must end there.
const CallbackPath = "/callback"

// Config is everything the app needs to start.
type Config struct {
	Addr            string // where the app listens
	RedirectURL     string // the callback registered with Google
	ClientID        string
	ClientSecret    string
	CredentialsFile string // the client_secret_….json it was read from, if any

	// SessionKeys holds hash/encryption key pairs, newest first. When the
	// operator gave none, RandomKeys is true and the keys live only as long
	// as the process.
	SessionKeys [][]byte
	RandomKeys  bool

	// Google's endpoints, or the overrides given. With Sandbox set, those
	// not overridden are empty: the sandbox's own are known only once it runs.
	AuthURL     string
	TokenURL    string
	RevokeURL   string
	GmailAPIURL string

	// Sandbox is true when no Google client is configured: main then runs
	// the built-in stand-in Google on SandboxAddr and points the app at it.
	Sandbox     bool
	SandboxAddr string

	LogFormat string // "text" or "json"

	// MetricsAddr is where Prometheus metrics are served, at /metrics, on
	// a listener of their own; "" serves none.
	MetricsAddr string

	// PageTimeout bounds all Gmail work for one page view, retries included;
	// CallTimeout bounds each HTTP call to Gmail within it.
	PageTimeout time.Duration
	CallTimeout time.Duration

	// InboxLimit is how many inbox views a minute one session may make,
	// each a Gmail call, after a burst of a few; 0 is no limit.
	InboxLimit int

	// DrainDelay is how long /readyz answers 503 after a stop signal before
	// the server stops taking requests, so a load balancer can notice.
	DrainDelay time.Duration

	// NewKeys asks only for a fresh SESSION_KEYS value to be printed.
	NewKeys bool
}

// usage heads the list of flags that -h prints.
const usage = `Usage:
  gmailoauth [flags]          the app, at http://127.0.0.1:5000; with no Google
                              client set, with its sandbox Google beside it
  gmailoauth sandbox [flags]  the sandbox Google alone, for other clients
                              (gmailoauth sandbox -h lists its flags)

Each flag below can also be set by the environment variable in brackets;
a flag wins over its variable.

`

// setting ties one variable to its flag, so both spellings stay in one list.
type setting struct {
	env, flag, usage string
	value            *string
}

// Load reads flags from args (without the program name) and falls back to
// getenv for each setting; a flag wins over its environment variable. For
// -h it prints the usage to stderr and returns flag.ErrHelp; a flag it does
// not know is an error of one line that points to -h. Neither the usage
// nor an error ever shows a secret: an error quotes only values that are
// none, such as ADDR's.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var raw struct {
		addr, redirect, clientID, secret, credentials, keys         string
		authURL, tokenURL, revokeURL, gmailURL, sandboxAddr, format string
		pageTimeout, callTimeout, drainDelay, metricsAddr           string
		inboxLimit                                                  string
	}
	settings := []setting{
		{"ADDR", "addr", "address to listen on (default 127.0.0.1:5000)", &raw.addr},
		{"REDIRECT_URL", "redirect-url", "OAuth redirect URL registered with Google (default http://ADDR/callback)", &raw.redirect},
		{"GOOGLE_CLIENT_ID", "google-client-id", "OAuth client ID; unset (with no credentials file) starts the sandbox", &raw.clientID},
		{"GOOGLE_CLIENT_SECRET", "google-client-secret", "OAuth client secret (prefer the environment: flags show in ps)", &raw.secret},
		{"GOOGLE_CREDENTIALS", "google-credentials", "path to the client_secret_….json downloaded from Google Cloud Console", &raw.credentials},
		{"SESSION_KEYS", "session-keys", "comma-separated base64 keys in hash,encryption pairs, newest first", &raw.keys},
		{"GOOGLE_AUTH_URL", "google-auth-url", "authorization endpoint", &raw.authURL},
		{"GOOGLE_TOKEN_URL", "google-token-url", "token endpoint", &raw.tokenURL},
		{"GOOGLE_REVOKE_URL", "google-revoke-url", "revocation endpoint", &raw.revokeURL},
		{"GMAIL_API_URL", "gmail-api-url", "Gmail API base URL", &raw.gmailURL},
		{"SANDBOX_ADDR", "sandbox-addr", "address of the built-in sandbox Google (default " + defaultSandboxAddr + ")", &raw.sandboxAddr},
		{"LOG_FORMAT", "log-format", "log format: text or json (default text)", &raw.format},
		{"GMAIL_PAGE_TIMEOUT", "gmail-page-timeout", "deadline for all Gmail calls of one page view (default 8s)", &raw.pageTimeout},
		{"GMAIL_CALL_TIMEOUT", "gmail-call-timeout", "deadline for one Gmail HTTP call (default 4s)", &raw.callTimeout},
		{"INBOX_LIMIT", "inbox-limit", "inbox views a minute one Google account may make, after a burst of 10; beyond, 429 (default 60; 0: no limit)", &raw.inboxLimit},
		{"METRICS_ADDR", "metrics-addr", "address to serve Prometheus metrics on, at /metrics, apart from the app (default: none)", &raw.metricsAddr},
		{"DRAIN_DELAY", "drain-delay", "after a stop signal, how long /readyz says 503 before the server stops taking requests; a second signal cuts it short (default 0s)", &raw.drainDelay},
	}
	fs := flag.NewFlagSet("gmailoauth", flag.ContinueOnError)
	// The flag package would print the whole usage with every mistake; the
	// mistake alone is one line, and -h prints the usage.
	fs.SetOutput(io.Discard)
	// The environment is read after parsing, not given as the flags'
	// defaults: the flag package prints defaults in its usage.
	for _, s := range settings {
		fs.StringVar(s.value, s.flag, "", s.usage+" ["+s.env+"]")
	}
	newKeys := fs.Bool("new-session-keys", false, "print a fresh SESSION_KEYS value and exit")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return Config{}, err
	} else if err != nil {
		return Config{}, fmt.Errorf("%w; see -h", err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range settings {
		if !given[s.flag] {
			*s.value = getenv(s.env)
		}
	}
	if *newKeys {
		return Config{NewKeys: true}, nil
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}

	c := Config{
		Addr:            or(raw.addr, "127.0.0.1:5000"),
		ClientID:        raw.clientID,
		ClientSecret:    raw.secret,
		CredentialsFile: raw.credentials,
		SandboxAddr:     or(raw.sandboxAddr, defaultSandboxAddr),
		LogFormat:       or(raw.format, "text"),
		MetricsAddr:     raw.metricsAddr,
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return Config{}, fmt.Errorf("ADDR %q: want host:port", c.Addr)
	}
	// The default redirect URL is built from ADDR, and Google refuses one
	// without a host or with an unspecified address such as 0.0.0.0.
	if ip := net.ParseIP(host); raw.redirect == "" && (host == "" || ip != nil && ip.IsUnspecified()) {
		return Config{}, fmt.Errorf("ADDR %q has no host for the default REDIRECT_URL http://%s%s; set ADDR to e.g. 127.0.0.1:5000, or set REDIRECT_URL", c.Addr, c.Addr, CallbackPath)
	}
	c.RedirectURL = or(raw.redirect, "http://"+c.Addr+CallbackPath)
	if err := checkURL("REDIRECT_URL", c.RedirectURL); err != nil {
		return Config{}, err
	}
	if u, _ := url.Parse(c.RedirectURL); u.Path != CallbackPath {
		return Config{}, fmt.Errorf("REDIRECT_URL %q: the app serves the callback at %s; register %s://%s%s with Google and set REDIRECT_URL to it",
			c.RedirectURL, CallbackPath, u.Scheme, u.Host, CallbackPath)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return Config{}, fmt.Errorf("METRICS_ADDR %q: want host:port", c.MetricsAddr)
		}
		if c.MetricsAddr == c.Addr {
			return Config{}, fmt.Errorf("METRICS_ADDR %q is ADDR: metrics are served apart from the app, never to the people using it", c.MetricsAddr)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return Config{}, fmt.Errorf("LOG_FORMAT %q: want text or json", c.LogFormat)
	}
	if c.PageTimeout, err = duration("GMAIL_PAGE_TIMEOUT", raw.pageTimeout, 8*time.Second); err != nil {
		return Config{}, err
	}
	if c.CallTimeout, err = duration("GMAIL_CALL_TIMEOUT", raw.callTimeout, 4*time.Second); err != nil {
		return Config{}, err
	}
	c.InboxLimit = 60
	if raw.inboxLimit != "" {
		c.InboxLimit, err = strconv.Atoi(raw.inboxLimit)
		if err != nil || c.InboxLimit < 0 {
			return Config{}, fmt.Errorf("INBOX_LIMIT %q: want a number of views a minute, or 0 for no limit", raw.inboxLimit)
		}
	}
	if raw.drainDelay != "" {
		// Zero is a valid choice here: no load balancer to wait for.
		c.DrainDelay, err = time.ParseDuration(raw.drainDelay)
		if err != nil || c.DrainDelay < 0 {
			return Config{}, fmt.Errorf("DRAIN_DELAY %q: want a duration such as 5s", raw.drainDelay)
		}
	}

	if c.CredentialsFile != "" {
		if err := c.readCredentials(); err != nil {
			return Config{}, err
		}
	}
	c.Sandbox = c.ClientID == ""
	if !c.Sandbox && c.ClientSecret == "" {
		return Config{}, errors.New("GOOGLE_CLIENT_SECRET is not set (GOOGLE_CLIENT_ID is); set both, or GOOGLE_CREDENTIALS")
	}
	if c.Sandbox && c.ClientSecret != "" {
		return Config{}, errors.New("GOOGLE_CLIENT_ID is not set (GOOGLE_CLIENT_SECRET is); set both, or neither to run the built-in sandbox")
	}
	c.AuthURL, c.TokenURL, c.RevokeURL, c.GmailAPIURL = raw.authURL, raw.tokenURL, raw.revokeURL, raw.gmailURL
	if c.Sandbox {
		if _, _, err := net.SplitHostPort(c.SandboxAddr); err != nil {
			return Config{}, fmt.Errorf("SANDBOX_ADDR %q: want host:port", c.SandboxAddr)
		}
		// Said here, naming both, rather than as "address already in use"
		// when the second listener fails.
		for _, other := range []struct{ name, addr string }{{"ADDR", c.Addr}, {"METRICS_ADDR", c.MetricsAddr}} {
			if c.SandboxAddr == other.addr {
				return Config{}, fmt.Errorf("SANDBOX_ADDR and %s are the same, %q: the sandbox Google needs an address of its own; set SANDBOX_ADDR (default %s) to another host:port",
					other.name, c.SandboxAddr, defaultSandboxAddr)
			}
		}
	} else {
		c.AuthURL = or(c.AuthURL, DefaultAuthURL)
		c.TokenURL = or(c.TokenURL, DefaultTokenURL)
		c.RevokeURL = or(c.RevokeURL, DefaultRevokeURL)
		c.GmailAPIURL = or(c.GmailAPIURL, DefaultGmailAPIURL)
	}
	for _, u := range []struct{ name, value string }{
		{"GOOGLE_AUTH_URL", c.AuthURL}, {"GOOGLE_TOKEN_URL", c.TokenURL},
		{"GOOGLE_REVOKE_URL", c.RevokeURL}, {"GMAIL_API_URL", c.GmailAPIURL},
	} {
		if u.value == "" {
			continue // only with Sandbox: the sandbox's endpoint fills it
		}
		if err := checkURL(u.name, u.value); err != nil {
			return Config{}, err
		}
	}

	if raw.keys == "" {
		c.RandomKeys = true
		c.SessionKeys = [][]byte{randomKey(32), randomKey(32)}
	} else if c.SessionKeys, err = ParseSessionKeys(raw.keys); err != nil {
		return Config{}, fmt.Errorf("SESSION_KEYS: %w", err)
	}
	return c, nil
}

// Warnings are settings that are allowed but probably not meant, each
// a sentence naming its variables, for the log at start.
func (c Config) Warnings() []string {
	var warnings []string
	if c.CallTimeout > c.PageTimeout {
		warnings = append(warnings, fmt.Sprintf("GMAIL_CALL_TIMEOUT %v is longer than GMAIL_PAGE_TIMEOUT %v: every call is cut off at the page's deadline first", c.CallTimeout, c.PageTimeout))
	}
	if c.MetricsAddr != "" && !loopback(c.MetricsAddr) {
		warnings = append(warnings, fmt.Sprintf("METRICS_ADDR %s listens beyond loopback: anyone who reaches it can read the app's metrics, unless a firewall keeps them out", c.MetricsAddr))
	}
	if c.Sandbox {
		_, addrPort, _ := net.SplitHostPort(c.Addr)
		if u, err := url.Parse(c.RedirectURL); err == nil && u.Port() != addrPort {
			warnings = append(warnings, fmt.Sprintf("REDIRECT_URL %s is not on ADDR's port %s: the sandbox sends the browser back there, and only a proxy on that port would reach the app", c.RedirectURL, addrPort))
		}
	}
	return warnings
}

// HTTPS reports whether people reach the app over https, which the redirect
// URL tells: cookies must then carry Secure, and pages HSTS. url.Parse
// lowercases the scheme, so HTTPS:// counts too.
func (c Config) HTTPS() bool {
	u, err := url.Parse(c.RedirectURL)
	return err == nil && u.Scheme == "https"
}

// credentialsFile is the part of Google Cloud Console's download we use.
type credentialsFile struct {
	Web *struct {
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		RedirectURIs []string `json:"redirect_uris"`
	} `json:"web"`
}

// readCredentials fills the client from GOOGLE_CREDENTIALS. Explicit
// GOOGLE_CLIENT_ID/SECRET values win, so one file can serve several setups.
func (c *Config) readCredentials() error {
	data, err := os.ReadFile(c.CredentialsFile)
	if err != nil {
		return fmt.Errorf("GOOGLE_CREDENTIALS: %w", err)
	}
	var file credentialsFile
	if err := json.Unmarshal(data, &file); err != nil {
		return fmt.Errorf("GOOGLE_CREDENTIALS %s: not JSON: %w", c.CredentialsFile, err)
	}
	if file.Web == nil || file.Web.ClientID == "" || file.Web.ClientSecret == "" {
		return fmt.Errorf("GOOGLE_CREDENTIALS %s: no \"web\" client with client_id and client_secret (create a Web application client)", c.CredentialsFile)
	}
	c.ClientID = or(c.ClientID, file.Web.ClientID)
	c.ClientSecret = or(c.ClientSecret, file.Web.ClientSecret)
	// Google answers redirect_uri_mismatch for an unregistered URI; saying so
	// at start saves a confusing round trip through the browser.
	if len(file.Web.RedirectURIs) > 0 && !slices.Contains(file.Web.RedirectURIs, c.RedirectURL) {
		return fmt.Errorf("REDIRECT_URL %s is not among the redirect_uris of GOOGLE_CREDENTIALS %s (%s)",
			c.RedirectURL, c.CredentialsFile, strings.Join(file.Web.RedirectURIs, ", "))
	}
	return nil
}

// ParseSessionKeys decodes SESSION_KEYS: base64 keys in hash,encryption
// pairs, newest pair first. Hash keys are 32 or 64 bytes (HMAC-SHA256);
// encryption keys are 32 bytes (AES-256), so no pair can leave cookies
// readable.
func ParseSessionKeys(value string) ([][]byte, error) {
	parts := strings.Split(value, ",")
	keys := make([][]byte, 0, len(parts))
	// Each key is decoded before the pairs are counted: a value that is not
	// base64 at all is that mistake, not "1 key given".
	for i, part := range parts {
		key, err := decodeKey(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		keys = append(keys, key)
	}
	if len(keys)%2 != 0 {
		return nil, fmt.Errorf("an odd number of keys (%d); want hash,encryption pairs", len(keys))
	}
	for i, key := range keys {
		if i%2 == 0 && len(key) != 32 && len(key) != 64 {
			return nil, fmt.Errorf("key %d (hash): %d bytes; want 32 or 64", i+1, len(key))
		}
		if i%2 == 1 && len(key) != 32 {
			return nil, fmt.Errorf("key %d (encryption): %d bytes; want 32 for AES-256", i+1, len(key))
		}
	}
	return keys, nil
}

// NewSessionKeys returns a fresh SESSION_KEYS value of one pair, for the
// README's instructions and for tests that rotate keys.
func NewSessionKeys() string {
	return base64.StdEncoding.EncodeToString(randomKey(32)) + "," + base64.StdEncoding.EncodeToString(randomKey(32))
}

// decodeKey accepts standard and URL-safe base64, padded or not, since
// operators paste keys from different tools.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			return key, nil
		}
	}
	return nil, errors.New("not base64")
}

// loopback reports whether addr (host:port) listens on loopback only: a
// loopback IP, or localhost.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

func checkURL(name, value string) error {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q: want an absolute http(s) URL", name, value)
	}
	return nil
}

func duration(name, value string, fallback time.Duration) (time.Duration, error) {
	if value == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive duration such as 8s", name, value)
	}
	return d, nil
}

func or(value, fallback string) string {
	if value != "" {
		return value
	}
	return fallback
}

func randomKey(n int) []byte {
	key := make([]byte, n)
	rand.Read(key) // crypto/rand.Read never returns an error since Go 1.24.
	return key
}
