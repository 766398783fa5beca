// Package contract_test pins what the app relies on from Google: the token
// endpoint (code exchange, refresh, errors), revocation, and the Gmail API
// calls it makes (getProfile, messages.list, messages.get with
// format=metadata, batch) with their error shapes and statuses.
//
// Each test checks two things against golden JSON copied from Google's
// reference pages (testdata; each file's page is cited where it is used):
// that the app's clients (golang.org/x/oauth2 as the app configures it, and
// internal/gmail) decode Google's documented answers as the app needs, and
// that the live target answers in the same shape.
//
// `make test` runs the suite against the sandbox, started on 127.0.0.1.
// `make contract-google` runs it against real Google (go test -args
// -google), given GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and
// GOOGLE_REFRESH_TOKEN; without them every live test skips and says so.
// GOOGLE_TOKEN_URL, GOOGLE_REVOKE_URL and GMAIL_API_URL, as the app reads
// them, aim that run at another Google-like server.
// What real Google cannot do unattended (a person at the consent screen, a
// fresh authorization code, rate limits on demand, revoking the grant the
// run depends on) runs against the sandbox only and skips against Google,
// naming the reason.
package contract_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/sandbox"
)

var againstGoogle = flag.Bool("google", false,
	"run against real Google with GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REFRESH_TOKEN instead of the sandbox")

// googleEnv names the settings a run against real Google needs.
var googleEnv = []string{"GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_REFRESH_TOKEN"}

func TestMain(m *testing.M) {
	flag.Parse()
	if *againstGoogle {
		if missing := missingGoogleEnv(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "contract: a run against real Google needs %v in the environment (missing %v); "+
				"the live tests skip. See the README, \"Contract tests against real Google\".\n", googleEnv, missing)
		}
	}
	os.Exit(m.Run())
}

func missingGoogleEnv() []string {
	var missing []string
	for _, name := range googleEnv {
		if os.Getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	return missing
}

// envOr is the environment variable name, as the app reads it, or else
// Google's own endpoint, so that a run can also aim at another Google-like
// server such as `go run . sandbox`.
func envOr(name, google string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return google
}

// target is the Google a test talks to: the sandbox or the real one.
type target struct {
	name                   string
	tokenURL, revokeURL    string
	gmailURL               string // the Gmail API origin
	clientID, clientSecret string
	refreshToken           string
	// sandbox steers the sandbox; nil against real Google.
	sandbox *sandbox.Server
	// authURL and redirectURI drive the sandbox's consent page.
	authURL, redirectURI string
}

const (
	sandboxClientID     = "contract.apps.googleusercontent.com"
	sandboxClientSecret = "GOCSPX-contract-secret"
	// sandboxRedirectURI is never dialled: the tests read the redirect.
	sandboxRedirectURI = "http://127.0.0.1:9/callback"
)

// newTarget returns the target of this run: a fresh sandbox on 127.0.0.1,
// or real Google when -google is set, skipping when its settings are missing.
func newTarget(t *testing.T) *target {
	t.Helper()
	if *againstGoogle {
		if missing := missingGoogleEnv(); len(missing) > 0 {
			t.Skipf("against real Google this needs %v in the environment; missing %v", googleEnv, missing)
		}
		return &target{
			name:         "Google",
			tokenURL:     envOr("GOOGLE_TOKEN_URL", config.DefaultTokenURL),
			revokeURL:    envOr("GOOGLE_REVOKE_URL", config.DefaultRevokeURL),
			gmailURL:     envOr("GMAIL_API_URL", config.DefaultGmailAPIURL),
			clientID:     os.Getenv("GOOGLE_CLIENT_ID"),
			clientSecret: os.Getenv("GOOGLE_CLIENT_SECRET"),
			refreshToken: os.Getenv("GOOGLE_REFRESH_TOKEN"),
		}
	}
	sb, err := sandbox.New(sandbox.Options{
		ClientID:     sandboxClientID,
		ClientSecret: sandboxClientSecret,
		RedirectURIs: []string{sandboxRedirectURI},
	})
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewServer(sb) // listens on 127.0.0.1
	t.Cleanup(server.Close)
	return &target{
		name:         "sandbox",
		tokenURL:     server.URL + sandbox.TokenPath,
		revokeURL:    server.URL + sandbox.RevokePath,
		gmailURL:     server.URL,
		clientID:     sandboxClientID,
		clientSecret: sandboxClientSecret,
		refreshToken: sb.IssueToken(sb.Accounts()[0]).RefreshToken,
		sandbox:      sb,
		authURL:      server.URL + sandbox.AuthPath,
		redirectURI:  sandboxRedirectURI,
	}
}

// sandboxOnly skips a test against real Google, saying why it cannot run
// there unattended.
func (tg *target) sandboxOnly(t *testing.T, why string) {
	t.Helper()
	if tg.sandbox == nil {
		t.Skipf("not against real Google: %s", why)
	}
}

// oauthConfig is the token side of the app's OAuth client: client
// credentials in the request body, as internal/web configures it.
func (tg *target) oauthConfig() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     tg.clientID,
		ClientSecret: tg.clientSecret,
		RedirectURL:  tg.redirectURI,
		Scopes:       []string{sandbox.GmailScope},
		Endpoint: oauth2.Endpoint{
			AuthURL:   tg.authURL,
			TokenURL:  tg.tokenURL,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// token refreshes the target's refresh token into a live access token.
func (tg *target) token(t *testing.T) *oauth2.Token {
	t.Helper()
	tok, err := tg.oauthConfig().TokenSource(testContext(t), &oauth2.Token{RefreshToken: tg.refreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh at %s: %v", tg.name, err)
	}
	return tok
}

// gmailClient is the app's Gmail client for the target, authenticated with
// a fresh access token.
func (tg *target) gmailClient(t *testing.T) *gmail.Client {
	t.Helper()
	return gmailClientFor(t, tg.gmailURL, tg.oauthConfig().Client(testContext(t), tg.token(t)))
}

// gmailClientFor is internal/gmail's client for the API at base, with no
// retries so that an error comes back as Gmail sent it, and a call timeout
// far beyond Google's answers.
func gmailClientFor(t *testing.T, base string, hc *http.Client) *gmail.Client {
	t.Helper()
	service, err := gmail.NewService(gmail.Config{BaseURL: base, CallTimeout: time.Minute, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return service.Client(hc, "")
}

// testContext ends with the test, and after a minute at most: real Google
// answers in well under a second.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
