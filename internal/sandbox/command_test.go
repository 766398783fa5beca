package sandbox_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

// startCommand runs sandbox.Main with args and returns the settings it
// printed, NAME to value, and a function that stops it and returns Main's
// error.
func startCommand(t *testing.T, args ...string) (map[string]string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, stdout := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := sandbox.Main(ctx, args, noEnv, stdout, io.Discard, quickTimeouts)
		stdout.Close()
		done <- err
	}()
	settings := map[string]string{}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		if name, value, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[name] = value
		}
		if strings.HasPrefix(line, "# Accounts") {
			break
		}
	}
	// Main writes nothing more; drain the pipe so it never blocks.
	go io.Copy(io.Discard, out)
	stop := func() error {
		cancel()
		return <-done
	}
	if len(settings) == 0 {
		t.Fatalf("sandbox printed no settings; Main returned %v", stop())
	}
	return settings, stop
}

func TestCommandServesTheSandboxAlone(t *testing.T) {
	settings, stop := startCommand(t, "-addr", "127.0.0.1:0", "-client-id", "my-client", "-client-secret", "my-secret",
		"-redirect-uri", "http://localhost:3000/cb", "-redirect-uri", "https://app.example/cb", "-fail-429", "1")
	for name, want := range map[string]string{"GOOGLE_CLIENT_ID": "my-client", "GOOGLE_CLIENT_SECRET": "my-secret"} {
		if settings[name] != want {
			t.Errorf("printed %s=%q; want %q", name, settings[name], want)
		}
	}
	base, err := url.Parse(settings["GMAIL_API_URL"])
	if err != nil || base.Scheme != "http" || !strings.HasPrefix(base.Host, "127.0.0.1:") {
		t.Fatalf("printed GMAIL_API_URL=%q; want http://127.0.0.1:port", settings["GMAIL_API_URL"])
	}
	if settings["GOOGLE_TOKEN_URL"] != base.String()+sandbox.TokenPath || settings["GOOGLE_AUTH_URL"] != base.String()+sandbox.AuthPath ||
		settings["GOOGLE_REVOKE_URL"] != base.String()+sandbox.RevokePath {
		t.Errorf("printed endpoints %v; want the sandbox's paths under %s", settings, base)
	}

	// The client and redirect URI given are the registered ones.
	params := url.Values{
		"client_id": {"my-client"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
		"scope": {sandbox.GmailScope}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirects.Get(settings["GOOGLE_AUTH_URL"] + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET the consent page for the registered client = %d; want 200", resp.StatusCode)
	}
	params.Set("redirect_uri", "http://127.0.0.1:5000/callback") // the default, not registered here
	resp, err = noRedirects.Get(settings["GOOGLE_AUTH_URL"] + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET the consent page with an unregistered redirect URI = %d; want 400", resp.StatusCode)
	}
	// The fault knobs apply: every Gmail call is a 429, before authentication.
	resp, err = http.Get(settings["GMAIL_API_URL"] + "/gmail/v1/users/me/profile")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct{ Status string } `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || body.Error.Status != "RESOURCE_EXHAUSTED" {
		t.Errorf("GET profile with -fail-429 1 = %d %q; want 429 RESOURCE_EXHAUSTED", resp.StatusCode, body.Error.Status)
	}

	if err := stop(); err != nil {
		t.Errorf("Main after cancel = %v; want nil", err)
	}
	if _, err := http.Get(settings["GMAIL_API_URL"] + "/gmail/v1/users/me/profile"); err == nil {
		t.Errorf("the sandbox still answers after Main returned")
	}
}

func TestCommandDefaults(t *testing.T) {
	settings, stop := startCommand(t, "-addr", "127.0.0.1:0")
	defer stop()
	if !strings.HasPrefix(settings["GOOGLE_CLIENT_SECRET"], "GOCSPX-") || len(settings["GOOGLE_CLIENT_SECRET"]) < 40 {
		t.Errorf("default client secret %q; want a random one", settings["GOOGLE_CLIENT_SECRET"])
	}
	if settings["GOOGLE_CLIENT_ID"] != sandbox.ClientID {
		t.Errorf("default client ID %q; want sandbox.ClientID %q", settings["GOOGLE_CLIENT_ID"], sandbox.ClientID)
	}
}

func TestCommandRefusesBadArguments(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name string
		args []string
	}{
		{name: "unknown flag", args: []string{"-client-secrte", "x"}},
		{name: "stray argument", args: []string{"serve"}},
		{name: "fault shares over 1", args: []string{"-fail-500", "0.6", "-fail-429", "0.6"}},
		{name: "negative fault share", args: []string{"-malformed", "-0.1"}},
		{name: "redirect URI with a fragment", args: []string{"-redirect-uri", "http://localhost/cb#x"}},
		{name: "address in use", args: []string{"-addr", taken.Addr().String()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Already cancelled, so that Main returns at once even if it
			// wrongly starts serving.
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := sandbox.Main(ctx, append([]string{"-addr", "127.0.0.1:0"}, tt.args...), noEnv, io.Discard, io.Discard, quickTimeouts); err == nil {
				t.Errorf("Main(%q) = nil; want an error", tt.args)
			}
		})
	}
}

// quickTimeouts builds the server Main serves with, as main gives it the
// app's; its timeouts are short, so that a test sees a slow client cut off.
func quickTimeouts(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: 2 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
}

// TestCommandServesWithTheServerItIsGiven: a client that sends a token
// request's body slowly is cut off by the server's read timeout, which
// the standalone sandbox has from the app's server.
func TestCommandServesWithTheServerItIsGiven(t *testing.T) {
	settings, stop := startCommand(t, "-addr", "127.0.0.1:0")
	defer stop()
	base, _ := url.Parse(settings["GMAIL_API_URL"])
	conn, err := net.Dial("tcp", base.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /token HTTP/1.1\r\nHost: "+base.Host+"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=")
	// Only a guard against a hang: the read timeout is a second.
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadAll(conn); err != nil {
		t.Errorf("a slow body to /token: the connection stayed open (%v); want it ended by the server's read timeout", err)
	}
}

// TestCommandUsageAndMistakes: -h lists the flags, the new ones among
// them; a mistake is one line that points to -h.
func TestCommandUsageAndMistakes(t *testing.T) {
	var usage strings.Builder
	if err := sandbox.Main(t.Context(), []string{"-h"}, noEnv, io.Discard, &usage, quickTimeouts); err != nil {
		t.Fatalf("Main(-h) = %v; want nil", err)
	}
	for _, flag := range []string{"-auto-approve", "-strict", "-redirect-uri"} {
		if !strings.Contains(usage.String(), flag) {
			t.Errorf("usage lacks %s:\n%s", flag, usage.String())
		}
	}
	var printed strings.Builder
	err := sandbox.Main(t.Context(), []string{"-client-secrte", "x"}, noEnv, io.Discard, &printed, quickTimeouts)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.HasSuffix(err.Error(), "see gmailoauth sandbox -h") || printed.Len() > 0 {
		t.Errorf("Main(-client-secrte x) = %v, printing %q; want one line pointing to -h, and nothing printed", err, printed.String())
	}
}

// TestCommandWarnsBeyondLoopback: the sandbox hands out anyone's mail, so
// an address beyond loopback is warned about before it is bound. No
// address here can be bound: a test serves on loopback only.
func TestCommandWarnsBeyondLoopback(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	for _, tt := range []struct {
		addr     string
		wantWarn bool
	}{
		{addr: "192.0.2.1:1", wantWarn: true}, // TEST-NET-1: no machine has it
		{addr: "[2001:db8::1]:1", wantWarn: true},
		{addr: "127.0.0.1:" + port}, // in use
		{addr: "localhost:" + port},
	} {
		var logs strings.Builder
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		sandbox.Main(ctx, []string{"-addr", tt.addr}, noEnv, io.Discard, &logs, quickTimeouts)
		if warned := strings.Contains(logs.String(), "beyond loopback"); warned != tt.wantWarn {
			t.Errorf("-addr %s: warned %v; want %v\n%s", tt.addr, warned, tt.wantWarn, logs.String())
		}
	}
}

// noEnv is an environment with nothing set.
func noEnv(string) string { return "" }

// TestCommandListensOnSandboxAddr: without -addr, the standalone sandbox
// listens where SANDBOX_ADDR says, as the app's own sandbox does; -addr
// wins over it. The address is taken, so that trying it shows.
func TestCommandListensOnSandboxAddr(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	env := func(name string) string {
		if name == "SANDBOX_ADDR" {
			return taken.Addr().String()
		}
		return ""
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = sandbox.Main(ctx, nil, env, io.Discard, io.Discard, quickTimeouts)
	if err == nil || !strings.Contains(err.Error(), "SANDBOX_ADDR") || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Errorf("Main with SANDBOX_ADDR=%s, which is taken = %v; want an error naming SANDBOX_ADDR and the address", taken.Addr(), err)
	}
	if err := sandbox.Main(ctx, []string{"-addr", "127.0.0.1:0"}, env, io.Discard, io.Discard, quickTimeouts); err != nil {
		t.Errorf("Main -addr 127.0.0.1:0 with SANDBOX_ADDR taken = %v; want -addr to win", err)
	}
}

// TestCommandSaysItStopped: stopped (Ctrl-C cancels Main's context), the
// sandbox says so in a line, rather than ending silently.
func TestCommandSaysItStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var logs strings.Builder
	out, stdout := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- sandbox.Main(ctx, []string{"-addr", "127.0.0.1:0"}, noEnv, stdout, &logs, quickTimeouts)
		stdout.Close()
	}()
	// The settings are printed once it serves.
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("sandbox printed nothing: %v", err)
	}
	go io.Copy(io.Discard, out)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Main after cancel = %v; want nil", err)
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("Main logged, stopping:\n%s\nwant a line saying it stopped", logs.String())
	}
}
