// Package config reads the app's settings from flags and environment
// variables and checks them, so that a bad setting stops the start with one
// line naming the variable instead of failing later in front of a person.
package config

import (
	"cmp"
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

// The default addresses, which errors name too; every other default is
// written only in the list of settings.
const (
	defaultAddr        = "127.0.0.1:5000"
	defaultSandboxAddr = "127.0.0.1:5001"
)

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

	// InboxLimit is how many inbox views a minute one Google account may
	// make, each a Gmail call, after a burst of a few; 0 is no limit.
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

// Load reads flags from args (without the program name) and falls back to
// getenv for each setting; a flag wins over its environment variable. For
// -h it prints the usage to stderr and returns flag.ErrHelp; a flag it does
// not know is an error of one line that points to -h. Neither the usage
// nor an error ever shows a secret: an error quotes only values that are
// none, such as ADDR's.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	r, err := parse(args, getenv, stderr)
	if err != nil || r.newKeys {
		return Config{NewKeys: r.newKeys}, err
	}
	return r.validate()
}

// raw is each setting as given, by its flag or else its variable, or its
// default when neither gives it; validate checks it into a Config.
type raw struct {
	addr, redirect, clientID, secret, credentials, keys           string
	authURL, tokenURL, revokeURL, gmailURL, sandboxAddr, format   string
	pageTimeout, callTimeout, inboxLimit, metricsAddr, drainDelay string
	newKeys                                                       bool
}

// setting ties one variable to its flag and its default, so all three stay
// in one list.
type setting struct {
	env, flag, usage, fallback string
	value                      *string
}

// settings lists every setting, each read into a field of r.
func (r *raw) settings() []setting {
	return []setting{
		{"ADDR", "addr", "address to listen on", defaultAddr, &r.addr},
		{"REDIRECT_URL", "redirect-url", "OAuth redirect URL registered with Google (default http://ADDR/callback)", "", &r.redirect},
		{"GOOGLE_CLIENT_ID", "google-client-id", "OAuth client ID; unset (with no credentials file) starts the sandbox", "", &r.clientID},
		{"GOOGLE_CLIENT_SECRET", "google-client-secret", "OAuth client secret (prefer the environment: flags show in ps)", "", &r.secret},
		{"GOOGLE_CREDENTIALS", "google-credentials", "path to the client_secret_….json downloaded from Google Cloud Console", "", &r.credentials},
		{"SESSION_KEYS", "session-keys", "comma-separated base64 keys in hash,encryption pairs, newest first", "", &r.keys},
		{"GOOGLE_AUTH_URL", "google-auth-url", "authorization endpoint", "", &r.authURL},
		{"GOOGLE_TOKEN_URL", "google-token-url", "token endpoint", "", &r.tokenURL},
		{"GOOGLE_REVOKE_URL", "google-revoke-url", "revocation endpoint", "", &r.revokeURL},
		{"GMAIL_API_URL", "gmail-api-url", "Gmail API base URL", "", &r.gmailURL},
		{"SANDBOX_ADDR", "sandbox-addr", "address of the built-in sandbox Google", defaultSandboxAddr, &r.sandboxAddr},
		{"LOG_FORMAT", "log-format", "log format: text or json", "text", &r.format},
		{"GMAIL_PAGE_TIMEOUT", "gmail-page-timeout", "deadline for all Gmail calls of one page view", "8s", &r.pageTimeout},
		{"GMAIL_CALL_TIMEOUT", "gmail-call-timeout", "deadline for one Gmail HTTP call", "4s", &r.callTimeout},
		{"INBOX_LIMIT", "inbox-limit", "inbox views a minute one Google account may make, after a burst of 10; beyond, 429; 0: no limit", "60", &r.inboxLimit},
		{"METRICS_ADDR", "metrics-addr", "address to serve Prometheus metrics on, at /metrics, apart from the app (default: none)", "", &r.metricsAddr},
		{"DRAIN_DELAY", "drain-delay", "after a stop signal, how long /readyz says 503 before the server stops taking requests; a second signal cuts it short", "0s", &r.drainDelay},
	}
}

// parse reads args and the environment into raw values, each setting's
// default in place of what neither gives.
func parse(args []string, getenv func(string) string, stderr io.Writer) (raw, error) {
	var r raw
	settings := r.settings()
	fs := flag.NewFlagSet("gmailoauth", flag.ContinueOnError)
	// The flag package would print the whole usage with every mistake; the
	// mistake alone is one line, and -h prints the usage.
	fs.SetOutput(io.Discard)
	// The environment is read after parsing, not given as the flags'
	// defaults: the flag package would print a secret as a default.
	for _, s := range settings {
		help := s.usage
		if s.fallback != "" {
			help += " (default " + s.fallback + ")"
		}
		fs.StringVar(s.value, s.flag, "", help+" ["+s.env+"]")
	}
	fs.BoolVar(&r.newKeys, "new-session-keys", false, "print a fresh SESSION_KEYS value and exit")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return raw{}, err
	} else if err != nil {
		return raw{}, fmt.Errorf("%w; see -h", err)
	}
	if fs.NArg() > 0 && !r.newKeys {
		return raw{}, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range settings {
		if !given[s.flag] {
			*s.value = getenv(s.env)
		}
		*s.value = cmp.Or(*s.value, s.fallback)
	}
	return r, nil
}

// validate checks the raw values and turns them into a Config, in the
// order a person reads the settings: addresses, limits, the client and
// its endpoints, and the session keys.
func (r raw) validate() (Config, error) {
	c := Config{
		Addr:            r.addr,
		ClientID:        r.clientID,
		ClientSecret:    r.secret,
		CredentialsFile: r.credentials,
		AuthURL:         r.authURL,
		TokenURL:        r.tokenURL,
		RevokeURL:       r.revokeURL,
		GmailAPIURL:     r.gmailURL,
		SandboxAddr:     r.sandboxAddr,
		LogFormat:       r.format,
		MetricsAddr:     r.metricsAddr,
	}
	if err := c.checkAddresses(r.redirect); err != nil {
		return Config{}, err
	}
	if err := c.checkLimits(r); err != nil {
		return Config{}, err
	}
	if err := c.checkClient(); err != nil {
		return Config{}, err
	}
	if r.keys == "" {
		c.RandomKeys = true
		c.SessionKeys = [][]byte{randomKey(32), randomKey(32)}
		return c, nil
	}
	var err error
	if c.SessionKeys, err = ParseSessionKeys(r.keys); err != nil {
		return Config{}, fmt.Errorf("SESSION_KEYS: %w", err)
	}
	return c, nil
}

// checkAddresses checks ADDR and METRICS_ADDR and sets the redirect URL,
// by default one on ADDR.
func (c *Config) checkAddresses(redirect string) error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("ADDR %q: want host:port", c.Addr)
	}
	// The default redirect URL is built from ADDR, and Google refuses one
	// without a host or with an unspecified address such as 0.0.0.0.
	if ip := net.ParseIP(host); redirect == "" && (host == "" || ip != nil && ip.IsUnspecified()) {
		return fmt.Errorf("ADDR %q has no host for the default REDIRECT_URL http://%s%s; set ADDR to e.g. %s, or set REDIRECT_URL", c.Addr, c.Addr, CallbackPath, defaultAddr)
	}
	c.RedirectURL = cmp.Or(redirect, "http://"+c.Addr+CallbackPath)
	if err := checkURL("REDIRECT_URL", c.RedirectURL); err != nil {
		return err
	}
	if u, _ := url.Parse(c.RedirectURL); u.Path != CallbackPath {
		return fmt.Errorf("REDIRECT_URL %q: the app serves the callback at %s; register %s://%s%s with Google and set REDIRECT_URL to it",
			c.RedirectURL, CallbackPath, u.Scheme, u.Host, CallbackPath)
	}
	if c.MetricsAddr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
		return fmt.Errorf("METRICS_ADDR %q: want host:port", c.MetricsAddr)
	}
	if c.MetricsAddr == c.Addr {
		return fmt.Errorf("METRICS_ADDR %q is ADDR: metrics are served apart from the app, never to the people using it", c.MetricsAddr)
	}
	return nil
}

// checkLimits checks the log format, the timeouts, the inbox limit and the
// drain delay.
func (c *Config) checkLimits(r raw) error {
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("LOG_FORMAT %q: want text or json", c.LogFormat)
	}
	var err error
	if c.PageTimeout, err = positiveDuration("GMAIL_PAGE_TIMEOUT", r.pageTimeout); err != nil {
		return err
	}
	if c.CallTimeout, err = positiveDuration("GMAIL_CALL_TIMEOUT", r.callTimeout); err != nil {
		return err
	}
	if c.InboxLimit, err = strconv.Atoi(r.inboxLimit); err != nil || c.InboxLimit < 0 {
		return fmt.Errorf("INBOX_LIMIT %q: want a number of views a minute, or 0 for no limit", r.inboxLimit)
	}
	// Zero is a valid drain delay: no load balancer to wait for.
	if c.DrainDelay, err = time.ParseDuration(r.drainDelay); err != nil || c.DrainDelay < 0 {
		return fmt.Errorf("DRAIN_DELAY %q: want a duration such as 5s", r.drainDelay)
	}
	return nil
}

// checkClient reads the credentials file, if any, decides between Google
// and the sandbox, and checks the endpoints: Google's unless overridden,
// and with the sandbox only those overridden.
func (c *Config) checkClient() error {
	if c.CredentialsFile != "" {
		if err := c.readCredentials(); err != nil {
			return err
		}
	}
	c.Sandbox = c.ClientID == ""
	if !c.Sandbox && c.ClientSecret == "" {
		return errors.New("GOOGLE_CLIENT_SECRET is not set (GOOGLE_CLIENT_ID is); set both, or GOOGLE_CREDENTIALS")
	}
	if c.Sandbox && c.ClientSecret != "" {
		return errors.New("GOOGLE_CLIENT_ID is not set (GOOGLE_CLIENT_SECRET is); set both, or neither to run the built-in sandbox")
	}
	if c.Sandbox {
		if err := c.checkSandboxAddr(); err != nil {
			return err
		}
	} else {
		c.AuthURL = cmp.Or(c.AuthURL, DefaultAuthURL)
		c.TokenURL = cmp.Or(c.TokenURL, DefaultTokenURL)
		c.RevokeURL = cmp.Or(c.RevokeURL, DefaultRevokeURL)
		c.GmailAPIURL = cmp.Or(c.GmailAPIURL, DefaultGmailAPIURL)
	}
	for _, u := range []struct{ name, value string }{
		{"GOOGLE_AUTH_URL", c.AuthURL}, {"GOOGLE_TOKEN_URL", c.TokenURL},
		{"GOOGLE_REVOKE_URL", c.RevokeURL}, {"GMAIL_API_URL", c.GmailAPIURL},
	} {
		if u.value == "" {
			continue // only with Sandbox: the sandbox's endpoint fills it
		}
		if err := checkURL(u.name, u.value); err != nil {
			return err
		}
	}
	return nil
}

// checkSandboxAddr checks SANDBOX_ADDR, and that it is apart from the
// app's other addresses: said here, naming both, rather than as "address
// already in use" when the second listener fails.
func (c *Config) checkSandboxAddr() error {
	if _, _, err := net.SplitHostPort(c.SandboxAddr); err != nil {
		return fmt.Errorf("SANDBOX_ADDR %q: want host:port", c.SandboxAddr)
	}
	for _, other := range []struct{ name, addr string }{{"ADDR", c.Addr}, {"METRICS_ADDR", c.MetricsAddr}} {
		if c.SandboxAddr == other.addr {
			return fmt.Errorf("SANDBOX_ADDR and %s are the same, %q: the sandbox Google needs an address of its own; set SANDBOX_ADDR (default %s) to another host:port",
				other.name, c.SandboxAddr, defaultSandboxAddr)
		}
	}
	return nil
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
	c.ClientID = cmp.Or(c.ClientID, file.Web.ClientID)
	c.ClientSecret = cmp.Or(c.ClientSecret, file.Web.ClientSecret)
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

// positiveDuration parses the duration a variable gives, which must be
// longer than zero.
func positiveDuration(name, value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive duration such as 8s", name, value)
	}
	return d, nil
}

func randomKey(n int) []byte {
	key := make([]byte, n)
	rand.Read(key) // crypto/rand.Read never returns an error since Go 1.24.
	return key
}
