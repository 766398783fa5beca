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

func TestListMapsErrorResponses(t *testing.T) {
	// Only the blocking case waits out its deadline; the others get a long
	// one, so reading 2 MiB on a busy machine under -race never times out.
	const blockTimeout, callTimeout = 50 * time.Millisecond, 10 * time.Second
	huge := strings.Repeat("x", 2<<20)
	tests := []struct {
		name       string
		response   fakeResponse
		wantErr    error
		wantStatus int    // of the APIError in the chain; 0: none expected
		wantReason string // of the APIError
	}{
		{"401 is unauthorized", googleError(401, "authError", "Invalid Credentials"), ErrUnauthorized, 401, "authError"},
		{"403 insufficientPermissions is forbidden", googleError(403, "insufficientPermissions", "Insufficient Permission"), ErrForbidden, 403, "insufficientPermissions"},
		{"403 rateLimitExceeded is rate limited", googleError(403, "rateLimitExceeded", "Rate Limit Exceeded"), ErrRateLimited, 403, "rateLimitExceeded"},
		{"403 userRateLimitExceeded is rate limited", googleError(403, "userRateLimitExceeded", "User Rate Limit Exceeded"), ErrRateLimited, 403, "userRateLimitExceeded"},
		{"404 is not found", googleError(404, "notFound", "Requested entity was not found."), ErrNotFound, 404, "notFound"},
		{"429 is rate limited", googleError(429, "rateLimitExceeded", "Too many concurrent requests for user"), ErrRateLimited, 429, "rateLimitExceeded"},
		{"400 is a bad request", googleError(400, "invalidArgument", "Invalid pageToken"), ErrBadRequest, 400, "invalidArgument"},
		{"500 is unavailable", googleError(500, "backendError", "Backend Error"), ErrUnavailable, 500, "backendError"},
		{"503 is unavailable", googleError(503, "backendError", "Service unavailable"), ErrUnavailable, 503, "backendError"},
		{"502 with an HTML body is unavailable", fakeResponse{status: 502, header: http.Header{"Content-Type": {"text/html"}}, body: "<html>Bad Gateway</html>"}, ErrUnavailable, 502, ""},
		{"503 with a huge body is unavailable", fakeResponse{status: 503, body: huge}, ErrUnavailable, 503, ""},
		{"a call outlasting CallTimeout is unavailable", fakeResponse{block: true}, ErrUnavailable, 0, ""},
		{"a redirect is not followed, so the token stays here", fakeResponse{status: 302, header: http.Header{"Location": {profilePath}}}, ErrBadResponse, 302, ""},
		{"malformed JSON is a bad response", jsonResponse(`{"messages": [`), ErrBadResponse, 0, ""},
		{"JSON of the wrong shape is a bad response", jsonResponse(`{"messages": "none"}`), ErrBadResponse, 0, ""},
		{"a huge body is cut off, not decoded", jsonResponse(`{"resultSizeEstimate": 1, "padding": "` + huge + `"}`), ErrBadResponse, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeGmail(t).script("list", tt.response)
			timeout := callTimeout
			if tt.response.block {
				timeout = blockTimeout
			}
			client, _ := newTestClient(t, fake.start(), Config{MaxAttempts: 1, CallTimeout: timeout})

			_, err := client.List(t.Context(), ListOptions{Query: "is:unread"})

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("List() err = %v; want %s", err, sentinelName(tt.wantErr))
			}
			if !strings.HasPrefix(err.Error(), "gmail list: ") {
				t.Errorf("List() err = %q; want it to start with the call, %q", err, "gmail list: ")
			}
			apiErr, isAPIError := errors.AsType[*APIError](err)
			if tt.wantStatus == 0 {
				if isAPIError {
					t.Errorf("List() err = %v; want no APIError in the chain", err)
				}
				return
			}
			if !isAPIError {
				t.Fatalf("List() err = %v; want an APIError in the chain", err)
			}
			if apiErr.Status != tt.wantStatus || apiErr.Reason != tt.wantReason {
				t.Errorf("APIError = {Status %d, Reason %q}; want {Status %d, Reason %q}", apiErr.Status, apiErr.Reason, tt.wantStatus, tt.wantReason)
			}
		})
	}
}

func TestAPIErrorCarriesGooglesMessage(t *testing.T) {
	fake := newFakeGmail(t).script("profile", googleError(403, "insufficientPermissions", "Request had insufficient authentication scopes."))
	client, _ := newTestClient(t, fake.start(), Config{})

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
			svc, sleeper := newTestService(t, newFakeGmail(t).start(), Config{})
			transport := &failingTransport{err: tt.err}
			client := svc.Client(&http.Client{Transport: transport}, accountA)

			_, err := client.List(t.Context(), ListOptions{})

			if !tt.wantInChain(err) {
				t.Errorf("List() err = %v; want %T in the chain", err, tt.err)
			}
			if errors.Is(err, ErrUnavailable) != tt.wantUnavailable {
				t.Errorf("List() err = %v; want ErrUnavailable: %v", err, tt.wantUnavailable)
			}
			if calls, waits := transport.calls.Load(), sleeper.recorded(); calls != 1 || len(waits) != 0 {
				t.Errorf("List() made %d calls and waited %v; want 1 call and no wait", calls, waits)
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
			fake := newFakeGmail(t).script("list", fakeResponse{block: true}, fakeResponse{block: true})
			client, sleeper := newTestClient(t, fake.start(), Config{})

			_, err := client.List(tt.context(t), ListOptions{})

			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, tt.wantCtx) {
				t.Errorf("List() err = %v; want ErrUnavailable and %v", err, tt.wantCtx)
			}
			if waits := sleeper.recorded(); len(waits) != 0 {
				t.Errorf("List() waited %v; want no retry", waits)
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
