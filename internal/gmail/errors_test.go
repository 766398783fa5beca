package gmail

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"gmailoauth/internal/sandbox"
)

// sentinelName names the sentinel err wraps, so failures read like the spec.
func sentinelName(err error) string {
	for _, sentinel := range []struct {
		err  error
		name string
	}{
		{ErrUnauthorized, "ErrUnauthorized"},
		{ErrForbidden, "ErrForbidden"},
		{ErrNotFound, "ErrNotFound"},
		{ErrRateLimited, "ErrRateLimited"},
		{ErrUnavailable, "ErrUnavailable"},
		{ErrBadResponse, "ErrBadResponse"},
		{ErrBadRequest, "ErrBadRequest"},
	} {
		if errors.Is(err, sentinel.err) {
			return sentinel.name
		}
	}
	if err == nil {
		return "nil"
	}
	return "an unclassified error"
}

// TestListMapsErrorResponses: the list failing fails the page, with the
// error Gmail's answer maps to.
func TestListMapsErrorResponses(t *testing.T) {
	// Only the blocking case waits out its deadline; the others get a long
	// one, so reading 2 MiB on a busy machine under -race never times out.
	const blockTimeout, callTimeout = 50 * time.Millisecond, 10 * time.Second
	huge := strings.Repeat("x", 2<<20)
	tests := []struct {
		name       string
		fault      sandbox.Fault    // the sandbox's answer, as Google's
		scripted   scriptedResponse // or, if its status is set or it blocks, these bytes
		wantErr    error
		wantStatus int    // of the APIError in the chain; 0: none expected
		wantReason string // of the APIError
	}{
		{name: "401 is unauthorized", fault: sandbox.Fault{Status: 401}, wantErr: ErrUnauthorized, wantStatus: 401, wantReason: "authError"},
		{name: "403 insufficientPermissions is forbidden", fault: sandbox.Fault{Status: 403}, wantErr: ErrForbidden, wantStatus: 403, wantReason: "insufficientPermissions"},
		{name: "403 rateLimitExceeded is rate limited", fault: sandbox.Fault{Status: 403, Reason: "rateLimitExceeded"}, wantErr: ErrRateLimited, wantStatus: 403, wantReason: "rateLimitExceeded"},
		{name: "403 userRateLimitExceeded is rate limited", fault: sandbox.Fault{Status: 403, Reason: "userRateLimitExceeded"}, wantErr: ErrRateLimited, wantStatus: 403, wantReason: "userRateLimitExceeded"},
		{name: "404 is not found", fault: sandbox.Fault{Status: 404}, wantErr: ErrNotFound, wantStatus: 404, wantReason: "notFound"},
		{name: "429 is rate limited", fault: sandbox.Fault{Status: 429}, wantErr: ErrRateLimited, wantStatus: 429, wantReason: "rateLimitExceeded"},
		{name: "400 is a bad request", fault: sandbox.Fault{Status: 400}, wantErr: ErrBadRequest, wantStatus: 400, wantReason: "invalidArgument"},
		{name: "500 is unavailable", fault: sandbox.Fault{Status: 500}, wantErr: ErrUnavailable, wantStatus: 500, wantReason: "backendError"},
		{name: "503 is unavailable", fault: sandbox.Fault{Status: 503}, wantErr: ErrUnavailable, wantStatus: 503, wantReason: "backendError"},
		{name: "502 with an HTML body is unavailable", scripted: scriptedResponse{status: 502, header: http.Header{"Content-Type": {"text/html"}}, body: "<html>Bad Gateway</html>"}, wantErr: ErrUnavailable, wantStatus: 502},
		{name: "503 with a huge body is unavailable", scripted: scriptedResponse{status: 503, body: huge}, wantErr: ErrUnavailable, wantStatus: 503},
		{name: "a call outlasting CallTimeout is unavailable", scripted: scriptedResponse{block: true}, wantErr: ErrUnavailable},
		{name: "a redirect is not followed, so the token stays here", scripted: scriptedResponse{status: 302, header: http.Header{"Location": {profilePath}}}, wantErr: ErrBadResponse, wantStatus: 302},
		{name: "malformed JSON is a bad response", scripted: jsonResponse(`{"messages": [`), wantErr: ErrBadResponse},
		{name: "JSON of the wrong shape is a bad response", scripted: jsonResponse(`{"messages": "none"}`), wantErr: ErrBadResponse},
		{name: "a huge body is cut off, not decoded", scripted: jsonResponse(`{"resultSizeEstimate": 1, "padding": "` + huge + `"}`), wantErr: ErrBadResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gmail := newHostileGmail(t)
			if tt.scripted.status != 0 || tt.scripted.block {
				gmail.script("list", tt.scripted)
			} else {
				tt.fault.Call = "list"
				gmail.sandbox.InjectFaults(tt.fault)
			}
			timeout := callTimeout
			if tt.scripted.block {
				timeout = blockTimeout
			}
			client, _ := gmail.client(t, Config{MaxAttempts: 1, CallTimeout: timeout})

			_, err := client.Unread(t.Context(), "", 0)

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Unread() err = %v; want %s", err, sentinelName(tt.wantErr))
			}
			if !strings.HasPrefix(err.Error(), "gmail unread: ") {
				t.Errorf("Unread() err = %q; want it to start with the call, %q", err, "gmail unread: ")
			}
			apiErr, isAPIError := errors.AsType[*APIError](err)
			if tt.wantStatus == 0 {
				if isAPIError {
					t.Errorf("Unread() err = %v; want no APIError in the chain", err)
				}
				return
			}
			if !isAPIError {
				t.Fatalf("Unread() err = %v; want an APIError in the chain", err)
			}
			if apiErr.Status != tt.wantStatus || apiErr.Reason != tt.wantReason {
				t.Errorf("APIError = {Status %d, Reason %q}; want {Status %d, Reason %q}", apiErr.Status, apiErr.Reason, tt.wantStatus, tt.wantReason)
			}
		})
	}
}

func TestAPIErrorCarriesGooglesMessage(t *testing.T) {
	// A token without the Gmail scope, as Google answers it.
	g := newSandboxGmail(t)
	svc, _ := newTestService(t, g.server, Config{})
	account := g.account(t, 0, 0)
	client := svc.Client(authorizedClient(g.server, g.IssueToken(account, "openid").AccessToken), account)

	_, err := client.Profile(t.Context())

	want := "gmail profile: gmail: forbidden: HTTP 403 insufficientPermissions: Request had insufficient authentication scopes."
	if err == nil || err.Error() != want {
		t.Errorf("Profile() err = %v; want %q", err, want)
	}
}

// failingTransport stands in for an oauth2 transport that cannot refresh
// the token.
type failingTransport struct {
	calls atomic.Int32
	err   error
}

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return nil, f.err
}

func TestTransportErrorsAreNotRetried(t *testing.T) {
	refreshFailed := &oauth2.RetrieveError{Response: &http.Response{StatusCode: http.StatusBadRequest}, ErrorCode: "invalid_grant"}
	tests := []struct {
		name            string
		err             error
		wantUnavailable bool
		wantInChain     func(err error) bool
	}{
		{
			name:        "the token refresh failing stays in the chain for errors.As",
			err:         refreshFailed,
			wantInChain: func(err error) bool { _, ok := errors.AsType[*oauth2.RetrieveError](err); return ok },
		},
		{
			name:            "a refused connection is unavailable",
			err:             &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
			wantUnavailable: true,
			wantInChain:     func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) },
		},
		{
			name:            "a connection closed early is unavailable",
			err:             io.ErrUnexpectedEOF,
			wantUnavailable: true,
			wantInChain:     func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, sleeper := newTestService(t, newSandboxGmail(t).server, Config{})
			transport := &failingTransport{err: tt.err}
			client := svc.Client(&http.Client{Transport: transport}, accountA)

			_, err := client.Unread(t.Context(), "", 0)

			if !tt.wantInChain(err) {
				t.Errorf("Unread() err = %v; want %T in the chain", err, tt.err)
			}
			if errors.Is(err, ErrUnavailable) != tt.wantUnavailable {
				t.Errorf("Unread() err = %v; want ErrUnavailable: %v", err, tt.wantUnavailable)
			}
			if calls, waits := transport.calls.Load(), sleeper.recorded(); calls != 1 || len(waits) != 0 {
				t.Errorf("Unread() made %d calls and waited %v; want 1 call and no wait", calls, waits)
			}
		})
	}
}

func TestCallerContextEndingIsUnavailableAndFinal(t *testing.T) {
	tests := []struct {
		name    string
		context func(t *testing.T) context.Context
		wantCtx error
	}{
		{
			name: "canceled before the call",
			context: func(t *testing.T) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				return ctx
			},
			wantCtx: context.Canceled,
		},
		{
			name: "deadline passing during the call",
			context: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			},
			wantCtx: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Held back until the client gives up on it, and so would a retry.
			g := newSandboxGmail(t)
			g.InjectFaults(sandbox.Fault{Call: "list", Delay: time.Hour}, sandbox.Fault{Call: "list", Delay: time.Hour})
			client, sleeper := g.client(t, Config{})

			_, err := client.Unread(tt.context(t), "", 0)

			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, tt.wantCtx) {
				t.Errorf("Unread() err = %v; want ErrUnavailable and %v", err, tt.wantCtx)
			}
			if waits := sleeper.recorded(); len(waits) != 0 {
				t.Errorf("Unread() waited %v; want no retry", waits)
			}
		})
	}
}

func TestRetryAfterReadsTheChain(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"nil", nil, 0},
		{"not an APIError", errors.New("boom"), 0},
		{"a wrapped APIError", errors.Join(errors.New("context"), &APIError{Status: 429, RetryAfter: 7 * time.Second, kind: ErrRateLimited}), 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RetryAfter(tt.err); got != tt.want {
				t.Errorf("RetryAfter(%v) = %v; want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"99999999999999999999", 0},
		{"9999999999999", retryAfterCeiling},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v; want %v", tt.header, got, tt.want)
		}
	}
}
