package gmail

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

// sandboxGmail is the project's stand-in Google on a loopback server. Tests
// use it for everything Google does; hostile_test.go scripts only the bytes
// Google never sends.
type sandboxGmail struct {
	*sandbox.Server
	server *httptest.Server
}

func newSandboxGmail(t *testing.T) *sandboxGmail {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{
		ClientID:     "gmail-test.apps.googleusercontent.com",
		ClientSecret: "gmail-test-secret",
		// Never dialled: these tests take tokens from IssueToken.
		RedirectURIs: []string{"http://127.0.0.1/callback"},
		Strict:       true,
	})
	if err != nil {
		t.Fatalf("sandbox.New() err = %v; want nil", err)
	}
	server := httptest.NewServer(sb)
	t.Cleanup(server.Close)
	return &sandboxGmail{Server: sb, server: server}
}

// account returns the i-th seeded account, failing the test unless it has
// at least wantUnread unread messages.
func (g *sandboxGmail) account(t *testing.T, i, wantUnread int) string {
	t.Helper()
	account := g.Accounts()[i]
	if got := g.UnreadCount(account); got < wantUnread {
		t.Fatalf("sandbox account %s has %d unread messages; the test needs %d", account, got, wantUnread)
	}
	return account
}

// httpClient returns an HTTP client that sends a fresh access token of account.
func (g *sandboxGmail) httpClient(account string) *http.Client {
	return authorizedClient(g.server, g.IssueToken(account).AccessToken)
}

// referencePage is the page Unread gives of account with no cache and no
// faults, to compare cached and faulty pages against.
func (g *sandboxGmail) referencePage(t *testing.T, account string, pageSize int) Page {
	t.Helper()
	svc, _ := newTestService(t, g.server, Config{})
	page, err := svc.Client(g.httpClient(account), account).Unread(t.Context(), "", pageSize)
	if err != nil || len(page.Messages) != pageSize {
		t.Fatalf("reference Unread(%d) of %s = %d messages, %v; want %d, nil", pageSize, account, len(page.Messages), err, pageSize)
	}
	for _, summary := range page.Messages {
		if summary.Err != nil {
			t.Fatalf("reference Unread() of %s: summary of %s Err = %v; want nil", account, summary.ID, summary.Err)
		}
	}
	g.ResetStats()
	return comparablePage(page)
}

// client returns a Client of the first seeded account, built by newTestService.
func (g *sandboxGmail) client(t *testing.T, cfg Config) (*Client, *sleepRecorder) {
	t.Helper()
	svc, sleeper := newTestService(t, g.server, cfg)
	account := g.account(t, 0, 1)
	return svc.Client(g.httpClient(account), account), sleeper
}

// rawGet is the sandbox's answer to a GET of path with query for account,
// as bytes.
func (g *sandboxGmail) rawGet(t *testing.T, account, path string, query url.Values) []byte {
	t.Helper()
	resp, err := g.httpClient(account).Get(g.server.URL + path + "?" + query.Encode())
	if err != nil {
		t.Fatalf("sandbox GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sandbox GET %s = %d %s, %v; want 200", path, resp.StatusCode, body, err)
	}
	g.ResetStats()
	return body
}

// rawList is the sandbox's answer to a list of account's first pageSize
// unread messages, as bytes.
func (g *sandboxGmail) rawList(t *testing.T, account string, pageSize int) []byte {
	t.Helper()
	return g.rawGet(t, account, messagesPath, url.Values{"q": {"is:unread"}, "maxResults": {strconv.Itoa(pageSize)}})
}

// accountA and accountB name accounts for tests that need no server.
const (
	accountA = "a@example.com"
	accountB = "b@example.com"
)

// bearerTransport stands in for the oauth2 transport.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (t *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// sleepRecorder stands in for Config.Sleep: it records the waits asked for
// and returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// maxJitter makes full jitter deterministic: always the longest wait.
func maxJitter(limit time.Duration) time.Duration { return limit }

// testCallTimeout is long enough for any answer on a busy machine; a test
// that needs a call to time out sets a short CallTimeout of its own.
const testCallTimeout = 10 * time.Second

// newTestService returns a Service for server with cfg's non-zero fields,
// a CallTimeout of testCallTimeout unless cfg has one, waits recorded
// instead of slept and deterministic jitter.
func newTestService(t *testing.T, server *httptest.Server, cfg Config) (*Service, *sleepRecorder) {
	t.Helper()
	sleeper := &sleepRecorder{}
	cfg.BaseURL = server.URL
	if cfg.CallTimeout == 0 {
		cfg.CallTimeout = testCallTimeout
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleeper.sleep
	}
	if cfg.Jitter == nil {
		cfg.Jitter = maxJitter
	}
	svc, err := NewService(cfg)
	if err != nil {
		t.Fatalf("NewService() err = %v; want nil", err)
	}
	return svc, sleeper
}

func authorizedClient(server *httptest.Server, token string) *http.Client {
	return &http.Client{Transport: &bearerTransport{token: token, base: server.Client().Transport}}
}
