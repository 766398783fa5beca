package config_test

import (
	"cmp"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func key(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

func TestLoadDefaultsToSandbox(t *testing.T) {
	cfg, err := config.Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatalf("Load() err = %v", err)
	}
	// With no client, the client and endpoints are left to whoever starts
	// the sandbox: config does not know its paths.
	checks := []struct{ name, got, want string }{
		{name: "Addr", got: cfg.Addr, want: "127.0.0.1:5000"},
		{name: "RedirectURL", got: cfg.RedirectURL, want: "http://127.0.0.1:5000/callback"},
		{name: "SandboxAddr", got: cfg.SandboxAddr, want: "127.0.0.1:5001"},
		{name: "ClientID", got: cfg.ClientID, want: ""},
		{name: "ClientSecret", got: cfg.ClientSecret, want: ""},
		{name: "AuthURL", got: cfg.AuthURL, want: ""},
		{name: "TokenURL", got: cfg.TokenURL, want: ""},
		{name: "RevokeURL", got: cfg.RevokeURL, want: ""},
		{name: "GmailAPIURL", got: cfg.GmailAPIURL, want: ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q; want %q", c.name, c.got, c.want)
		}
	}
	if !cfg.Sandbox || !cfg.RandomKeys || cfg.HTTPS() {
		t.Errorf("Sandbox=%v RandomKeys=%v HTTPS=%v; want true true false", cfg.Sandbox, cfg.RandomKeys, cfg.HTTPS())
	}
}

func TestLoadSandboxKeepsOverrides(t *testing.T) {
	cfg, err := config.Load(nil, env(map[string]string{"GMAIL_API_URL": "http://127.0.0.1:9/"}), io.Discard)
	if err != nil {
		t.Fatalf("Load() err = %v", err)
	}
	if !cfg.Sandbox || cfg.GmailAPIURL != "http://127.0.0.1:9/" || cfg.AuthURL != "" {
		t.Errorf("Sandbox=%v GmailAPIURL=%q AuthURL=%q; want true, the override, empty", cfg.Sandbox, cfg.GmailAPIURL, cfg.AuthURL)
	}
}

func TestLoadRealGoogle(t *testing.T) {
	keys := key(32) + "," + key(32) + "," + key(64) + "," + key(32)
	cfg, err := config.Load([]string{"-addr", "0.0.0.0:8080"}, env(map[string]string{
		"ADDR":                 "ignored:1",
		"GOOGLE_CLIENT_ID":     "id.apps.googleusercontent.com",
		"GOOGLE_CLIENT_SECRET": "secret",
		"REDIRECT_URL":         "https://mail.example.com/callback",
		"SESSION_KEYS":         keys,
	}), io.Discard)
	if err != nil {
		t.Fatalf("Load() err = %v", err)
	}
	if cfg.Addr != "0.0.0.0:8080" {
		t.Errorf("Addr = %q; want the flag's 0.0.0.0:8080 over the environment", cfg.Addr)
	}
	if cfg.Sandbox || cfg.AuthURL != config.DefaultAuthURL || cfg.TokenURL != config.DefaultTokenURL ||
		cfg.RevokeURL != config.DefaultRevokeURL || cfg.GmailAPIURL != config.DefaultGmailAPIURL {
		t.Errorf("endpoints = %+v; want Google's", cfg)
	}
	if !cfg.HTTPS() || len(cfg.SessionKeys) != 4 || cfg.RandomKeys {
		t.Errorf("HTTPS=%v keys=%d RandomKeys=%v; want true 4 false", cfg.HTTPS(), len(cfg.SessionKeys), cfg.RandomKeys)
	}
}

func TestLoadCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.json", `{"web":{"client_id":"from-file","client_secret":"s3cret","redirect_uris":["http://127.0.0.1:5000/callback"]}}`)
	cfg, err := config.Load(nil, env(map[string]string{"GOOGLE_CREDENTIALS": good}), io.Discard)
	if err != nil {
		t.Fatalf("Load() err = %v", err)
	}
	if cfg.ClientID != "from-file" || cfg.ClientSecret != "s3cret" || cfg.Sandbox {
		t.Errorf("client = %q/%q sandbox=%v; want from-file/s3cret false", cfg.ClientID, cfg.ClientSecret, cfg.Sandbox)
	}

	tests := []struct {
		name, file, wantErr string
	}{
		{"missing file", filepath.Join(dir, "nope.json"), "GOOGLE_CREDENTIALS"},
		{"not JSON", write("bad.json", "{"), "not JSON"},
		{"installed app", write("installed.json", `{"installed":{"client_id":"x","client_secret":"y"}}`), `no "web" client`},
		{"redirect not registered", write("other.json", `{"web":{"client_id":"x","client_secret":"y","redirect_uris":["https://elsewhere/cb"]}}`), "REDIRECT_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(nil, env(map[string]string{"GOOGLE_CREDENTIALS": tt.file}), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load() err = %v; want one naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"secret missing", map[string]string{"GOOGLE_CLIENT_ID": "id"}, "GOOGLE_CLIENT_SECRET"},
		{"ID missing", map[string]string{"GOOGLE_CLIENT_SECRET": "secret"}, "GOOGLE_CLIENT_ID is not set"},
		{"keys not base64 at all", map[string]string{"SESSION_KEYS": "my session keys"}, "SESSION_KEYS: key 1: not base64"},
		{"addr without host", map[string]string{"ADDR": ":5000"}, "ADDR \":5000\" has no host"},
		{"addr 0.0.0.0", map[string]string{"ADDR": "0.0.0.0:5000"}, "ADDR \"0.0.0.0:5000\" has no host"},
		{"addr ::", map[string]string{"ADDR": "[::]:5000"}, "has no host"},
		{"odd key count", map[string]string{"SESSION_KEYS": key(32)}, "SESSION_KEYS"},
		{"key not base64", map[string]string{"SESSION_KEYS": "!!!," + key(32)}, "SESSION_KEYS: key 1: not base64"},
		{"short hash key", map[string]string{"SESSION_KEYS": key(16) + "," + key(32)}, "key 1 (hash)"},
		{"AES-128 key", map[string]string{"SESSION_KEYS": key(32) + "," + key(16)}, "key 2 (encryption)"},
		{"bad addr", map[string]string{"ADDR": "5000"}, "ADDR"},
		{"relative redirect", map[string]string{"REDIRECT_URL": "/callback"}, "REDIRECT_URL"},
		{"redirect to another path", map[string]string{"REDIRECT_URL": "https://mail.example.com/oauth2callback"}, "register https://mail.example.com/callback with Google"},
		{"redirect with a trailing slash", map[string]string{"REDIRECT_URL": "https://mail.example.com/callback/"}, "REDIRECT_URL"},
		{"bad token URL", map[string]string{"GOOGLE_TOKEN_URL": "ftp://x"}, "GOOGLE_TOKEN_URL"},
		{"bad log format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"bad timeout", map[string]string{"GMAIL_PAGE_TIMEOUT": "soon"}, "GMAIL_PAGE_TIMEOUT"},
		{"negative drain delay", map[string]string{"DRAIN_DELAY": "-1s"}, "DRAIN_DELAY"},
		{"addr the sandbox's by default", map[string]string{"ADDR": "127.0.0.1:5001"}, "SANDBOX_ADDR and ADDR are the same, \"127.0.0.1:5001\""},
		{"sandbox addr the app's", map[string]string{"SANDBOX_ADDR": "127.0.0.1:5000"}, "SANDBOX_ADDR and ADDR are the same, \"127.0.0.1:5000\""},
		{"sandbox addr the metrics'", map[string]string{"SANDBOX_ADDR": "127.0.0.1:9100", "METRICS_ADDR": "127.0.0.1:9100"}, "SANDBOX_ADDR and METRICS_ADDR are the same"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(nil, env(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load() err = %v; want one naming %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("Load() err spans lines: %q; want one line", err)
			}
		})
	}
}

func TestNewSessionKeysParse(t *testing.T) {
	keys, err := config.ParseSessionKeys(config.NewSessionKeys())
	if err != nil || len(keys) != 2 {
		t.Fatalf("ParseSessionKeys(NewSessionKeys()) = %d keys, %v; want 2, nil", len(keys), err)
	}
}

func TestLoadAddrWithoutHostTakesAnExplicitRedirect(t *testing.T) {
	cfg, err := config.Load(nil, env(map[string]string{"ADDR": ":5000", "REDIRECT_URL": "https://mail.example.com/callback"}), io.Discard)
	if err != nil || cfg.RedirectURL != "https://mail.example.com/callback" {
		t.Errorf("Load() = %q, %v; want the REDIRECT_URL given and no error", cfg.RedirectURL, err)
	}
}

// Secrets come from the environment; neither the usage printed for -h nor
// the one-line error for a bad flag may show them as defaults, nor may any
// other setting's value leak. -h names the sandbox command too; a mistake
// is one line that points to -h, not the usage.
func TestUsageShowsNoValues(t *testing.T) {
	const secret = "GOCSPX-not-for-the-terminal"
	keys := key(32) + "," + key(32)
	environment := env(map[string]string{
		"GOOGLE_CLIENT_ID":     "id.apps.googleusercontent.com",
		"GOOGLE_CLIENT_SECRET": secret,
		"SESSION_KEYS":         keys,
	})
	tests := []struct {
		name    string
		args    []string
		wantErr error
	}{
		{name: "-h", args: []string{"-h"}, wantErr: flag.ErrHelp},
		{name: "-help", args: []string{"-help"}, wantErr: flag.ErrHelp},
		{name: "unknown flag", args: []string{"-no-such-flag"}},
		{name: "flag without value", args: []string{"-addr"}},
		{name: "an argument", args: []string{"serve"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			_, err := config.Load(tt.args, environment, &stderr)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("Load(%q) err = %v; want %v", tt.args, err, cmp.Or(tt.wantErr, errors.New("an error")))
			}
			out := stderr.String() + fmt.Sprint(err)
			if tt.wantErr == flag.ErrHelp {
				if !strings.Contains(out, "GOOGLE_CLIENT_SECRET") || !strings.Contains(out, "gmailoauth sandbox") {
					t.Fatalf("Load(%q) printed no usage naming the variables and the sandbox command:\n%s", tt.args, out)
				}
			} else if stderr.Len() > 0 || strings.Contains(err.Error(), "\n") || !strings.HasSuffix(err.Error(), "see -h") {
				t.Errorf("Load(%q) printed %q and returned %q; want nothing printed and one line ending in \"see -h\"", tt.args, stderr.String(), err)
			}
			for _, value := range []string{secret, key(32), "id.apps.googleusercontent.com"} {
				if strings.Contains(out, value) {
					t.Errorf("Load(%q) printed the value %q:\n%s", tt.args, value, out)
				}
			}
		})
	}
}

func TestLoadFlagBeatsEnvironment(t *testing.T) {
	cfg, err := config.Load([]string{"-log-format", "json"}, env(map[string]string{"LOG_FORMAT": "text", "GMAIL_CALL_TIMEOUT": "2s"}), io.Discard)
	if err != nil || cfg.LogFormat != "json" || cfg.CallTimeout != 2*time.Second {
		t.Errorf("Load() = LogFormat %q CallTimeout %v, %v; want the flag's json and the environment's 2s", cfg.LogFormat, cfg.CallTimeout, err)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string // a part of each warning, in order
	}{
		{name: "defaults", env: map[string]string{}},
		{name: "call timeout within the page's", env: map[string]string{"GMAIL_CALL_TIMEOUT": "8s"}},
		{name: "call timeout beyond the page's", env: map[string]string{"GMAIL_CALL_TIMEOUT": "9s"},
			want: []string{"GMAIL_CALL_TIMEOUT 9s is longer than GMAIL_PAGE_TIMEOUT 8s"}},
		{name: "sandbox, redirect on another port", env: map[string]string{"REDIRECT_URL": "http://127.0.0.1:8080/callback"},
			want: []string{"REDIRECT_URL http://127.0.0.1:8080/callback is not on ADDR's port 5000"}},
		{name: "sandbox, redirect on ADDR's port by another name", env: map[string]string{"REDIRECT_URL": "http://localhost:5000/callback"}},
		{name: "Google, redirect through a proxy", env: map[string]string{
			"GOOGLE_CLIENT_ID": "id", "GOOGLE_CLIENT_SECRET": "secret", "REDIRECT_URL": "https://mail.example.com/callback"}},
		{name: "metrics on loopback", env: map[string]string{"METRICS_ADDR": "127.0.0.1:9100"}},
		{name: "metrics on localhost", env: map[string]string{"METRICS_ADDR": "localhost:9100"}},
		{name: "metrics on IPv6 loopback", env: map[string]string{"METRICS_ADDR": "[::1]:9100"}},
		{name: "metrics on every interface", env: map[string]string{"METRICS_ADDR": ":9100"},
			want: []string{"METRICS_ADDR :9100 listens beyond loopback"}},
		{name: "metrics on a network", env: map[string]string{"METRICS_ADDR": "10.0.0.5:9100"},
			want: []string{"METRICS_ADDR 10.0.0.5:9100 listens beyond loopback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(nil, env(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Warnings()
			if len(got) != len(tt.want) {
				t.Fatalf("Warnings() = %q; want %d warnings", got, len(tt.want))
			}
			for i, part := range tt.want {
				if !strings.Contains(got[i], part) {
					t.Errorf("warning %d = %q; want it to say %q", i, got[i], part)
				}
			}
		})
	}
}

func TestMetricsNeverOnTheAppsAddress(t *testing.T) {
	_, err := config.Load(nil, env(map[string]string{"ADDR": "127.0.0.1:5000", "METRICS_ADDR": "127.0.0.1:5000"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
		t.Errorf("Load() with METRICS_ADDR = ADDR: err = %v; want an error naming METRICS_ADDR", err)
	}
	cfg, err := config.Load(nil, env(map[string]string{"METRICS_ADDR": "127.0.0.1:9100"}), io.Discard)
	if err != nil || cfg.MetricsAddr != "127.0.0.1:9100" {
		t.Errorf("Load() with METRICS_ADDR=127.0.0.1:9100 = %q, %v; want it kept", cfg.MetricsAddr, err)
	}
}
