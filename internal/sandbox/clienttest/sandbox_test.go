package clienttest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// binary is the app's binary, built once by TestMain from the repository
// this module sits in, as a person runs `gmailoauth sandbox`.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clienttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gmailoauth")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = filepath.Join("..", "..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build gmailoauth:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// redirectURI is registered with every sandbox the tests start; nothing
// listens there: a test reads the code from the redirect.
const redirectURI = "http://127.0.0.1:1/callback"

// hangGuard only turns a hang into a failure.
const hangGuard = time.Minute

// sandbox is a running `gmailoauth sandbox`, as its printed settings
// describe it.
type sandbox struct {
	base, clientID, clientSecret string
	settings                     map[string]string
}

// startSandbox runs `gmailoauth sandbox` with args on a loopback port until
// the test ends, and reads the settings it prints.
func startSandbox(t *testing.T, args ...string) *sandbox {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"sandbox", "-addr", "127.0.0.1:0", "-redirect-uri", redirectURI}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(hangGuard):
			cmd.Process.Kill()
			t.Errorf("gmailoauth sandbox still running %v after SIGTERM", hangGuard)
		}
	})
	settings := map[string]string{}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		if name, value, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[name] = value
		}
		if strings.HasPrefix(line, "# Accounts") {
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if settings["GMAIL_API_URL"] == "" {
		t.Fatalf("gmailoauth sandbox printed no settings")
	}
	return &sandbox{base: settings["GMAIL_API_URL"], clientID: settings["GOOGLE_CLIENT_ID"], clientSecret: settings["GOOGLE_CLIENT_SECRET"], settings: settings}
}

// config is the OAuth client of a Google web-server quickstart, pointed at
// the sandbox.
func (s *sandbox) config(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret,
		RedirectURL:  redirectURI,
		Endpoint:     oauth2.Endpoint{AuthURL: s.settings["GOOGLE_AUTH_URL"], TokenURL: s.settings["GOOGLE_TOKEN_URL"]},
		Scopes:       scopes,
	}
}

// signIn runs the authorization code flow against a sandbox started with
// -auto-approve, as a web-server quickstart does (no PKCE), and returns
// the token.
func (s *sandbox) signIn(t *testing.T, config *oauth2.Config, options ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	state := "state-" + t.Name()
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: hangGuard}
	resp, err := noRedirects.Get(config.AuthCodeURL(state, append(options, oauth2.AccessTypeOffline)...))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := resp.Location()
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("GET the authorization URL = %d; want a redirect with a code (-auto-approve): %v", resp.StatusCode, err)
	}
	query := back.Query()
	if query.Get("state") != state || query.Get("code") == "" {
		t.Fatalf("redirect back = %s; want the state and a code", back)
	}
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	token, err := config.Exchange(ctx, query.Get("code"))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	return token
}
