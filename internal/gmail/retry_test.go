package gmail

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

func TestListRetries(t *testing.T) {
	const ms = time.Millisecond
	fixedNow := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	rateLimited := sandbox.Fault{Call: "list", Status: 429}
	unavailable := sandbox.Fault{Call: "list", Status: 503}
	// Scripted: a Retry-After the sandbox never sends.
	scriptedRateLimited := googleError(429, "rateLimitExceeded", "Too many concurrent requests for user")
	scriptedUnavailable := googleError(503, "backendError", "Service unavailable")
	tests := []struct {
		name           string
		faults         []sandbox.Fault    // of the first calls; then success
		scripted       []scriptedResponse // answers to the first calls instead of faults
		maxAttempts    int
		deadline       time.Duration // of the caller's ctx; 0: none
		now            func() time.Time
		jitter         func(limit time.Duration) time.Duration
		wantErr        error // nil: success
		wantCalls      int64
		wantWaits      []time.Duration
		wantRetryAfter time.Duration // RetryAfter(err)
	}{
		{
			name:      "a 429 then success",
			faults:    []sandbox.Fault{rateLimited},
			wantCalls: 2, wantWaits: []time.Duration{200 * ms},
		},
		{
			name:      "backoff doubles",
			faults:    slices.Repeat([]sandbox.Fault{unavailable}, 3),
			wantCalls: 4, wantWaits: []time.Duration{200 * ms, 400 * ms, 800 * ms},
		},
		{
			name:        "backoff is capped at 5s",
			faults:      slices.Repeat([]sandbox.Fault{unavailable}, 8),
			maxAttempts: 9,
			wantCalls:   9, wantWaits: []time.Duration{200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 5000 * ms, 5000 * ms, 5000 * ms},
		},
		{
			name:      "full jitter picks within the backoff",
			faults:    slices.Repeat([]sandbox.Fault{unavailable}, 2),
			jitter:    func(limit time.Duration) time.Duration { return limit / 4 },
			wantCalls: 3, wantWaits: []time.Duration{50 * ms, 100 * ms},
		},
		{
			name:      "Retry-After in seconds is the minimum wait",
			faults:    []sandbox.Fault{{Call: "list", Status: 429, RetryAfter: 3 * time.Second}},
			wantCalls: 2, wantWaits: []time.Duration{3 * time.Second},
		},
		{
			name:      "Retry-After as an HTTP-date is the minimum wait",
			scripted:  []scriptedResponse{scriptedRateLimited.withHeader("Retry-After", fixedNow.Add(7*time.Second).Format(http.TimeFormat))},
			now:       func() time.Time { return fixedNow },
			wantCalls: 2, wantWaits: []time.Duration{7 * time.Second},
		},
		{
			name:      "a backoff longer than Retry-After wins",
			scripted:  []scriptedResponse{scriptedUnavailable, scriptedUnavailable, scriptedUnavailable.withHeader("Retry-After", "0")},
			wantCalls: 4, wantWaits: []time.Duration{200 * ms, 400 * ms, 800 * ms},
		},
		{
			name:      "403 rateLimitExceeded is retried",
			faults:    []sandbox.Fault{{Call: "list", Status: 403, Reason: "rateLimitExceeded"}},
			wantCalls: 2, wantWaits: []time.Duration{200 * ms},
		},
		{
			name:    "gives up after MaxAttempts",
			faults:  slices.Repeat([]sandbox.Fault{unavailable}, 4),
			wantErr: ErrUnavailable, wantCalls: 4, wantWaits: []time.Duration{200 * ms, 400 * ms, 800 * ms},
		},
		{
			name:     "gives up at once when Retry-After passes the deadline",
			faults:   []sandbox.Fault{{Call: "list", Status: 429, RetryAfter: 30 * time.Second}},
			deadline: 10 * time.Second,
			wantErr:  ErrRateLimited, wantCalls: 1, wantRetryAfter: 30 * time.Second,
		},
		{
			name:        "gives up when the backoff passes the deadline, advising that wait",
			faults:      slices.Repeat([]sandbox.Fault{unavailable}, 8),
			maxAttempts: 8,
			deadline:    time.Second,
			wantErr:     ErrUnavailable, wantCalls: 4, wantWaits: []time.Duration{200 * ms, 400 * ms, 800 * ms}, wantRetryAfter: 1600 * ms,
		},
		{
			name:    "401 is not retried",
			faults:  []sandbox.Fault{{Call: "list", Status: 401}},
			wantErr: ErrUnauthorized, wantCalls: 1,
		},
		{
			name:    "403 forbidden is not retried",
			faults:  []sandbox.Fault{{Call: "list", Status: 403}},
			wantErr: ErrForbidden, wantCalls: 1,
		},
		{
			name:    "404 is not retried",
			faults:  []sandbox.Fault{{Call: "list", Status: 404}},
			wantErr: ErrNotFound, wantCalls: 1,
		},
		{
			name:    "a malformed body is not retried",
			faults:  []sandbox.Fault{{Call: "list", Malformed: true}},
			wantErr: ErrBadResponse, wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, now := t.Context(), tt.now
			if tt.deadline > 0 {
				// The client weighs each wait against the time left by its
				// clock. One stopped tt.deadline before the context's
				// deadline leaves exactly that, however long the calls
				// take; the context allows a minute more, never ending first.
				deadline := time.Now().Add(tt.deadline + time.Minute)
				now = func() time.Time { return deadline.Add(-tt.deadline) }
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, deadline)
				defer cancel()
			}
			gmail := newHostileGmail(t)
			client, sleeper := gmail.client(t, Config{
				MaxAttempts: tt.maxAttempts,
				Now:         now,
				Jitter:      tt.jitter,
			})
			want, err := client.listUnread(ctx, client.newSemaphore(), "", 50)
			if err != nil || len(want.Messages) == 0 {
				t.Fatalf("listUnread() before any fault = %d messages, %v; want some, nil", len(want.Messages), err)
			}
			gmail.sandbox.ResetStats()
			gmail.sandbox.InjectFaults(tt.faults...)
			gmail.script("list", tt.scripted...)

			result, err := client.listUnread(ctx, client.newSemaphore(), "", 50)

			if tt.wantErr == nil && (err != nil || !reflect.DeepEqual(result, want)) {
				t.Errorf("listUnread() = %+v, err = %v; want %+v, err = nil", result, err, want)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("listUnread() err = %v; want %s", err, sentinelName(tt.wantErr))
			}
			if got := RetryAfter(err); got != tt.wantRetryAfter {
				t.Errorf("RetryAfter(listUnread() err) = %v; want %v", got, tt.wantRetryAfter)
			}
			if got := gmail.calls(); got != tt.wantCalls {
				t.Errorf("listUnread() made %d calls; want %d", got, tt.wantCalls)
			}
			if got := sleeper.recorded(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("listUnread() waited %v; want %v", got, tt.wantWaits)
			}
		})
	}
}

// TestCallOutlastingCallTimeoutIsRetried: a call that outlasts CallTimeout
// goes again, after the backoff, within the caller's deadline. The deadline
// is short, so the test does not wait it out; the answer to the second call
// is served in this process, whatever the time, so it does not race it.
func TestCallOutlastingCallTimeoutIsRetried(t *testing.T) {
	g := newSandboxGmail(t)
	account := g.account(t, 0, 1)
	reference, _ := g.client(t, Config{})
	want, err := reference.listUnread(t.Context(), reference.newSemaphore(), "", 50)
	if err != nil || len(want.Messages) == 0 {
		t.Fatalf("listUnread() before any fault = %d messages, %v; want some, nil", len(want.Messages), err)
	}
	var calls atomic.Int32
	inProcess := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // held until the client gives up on it
			return nil, r.Context().Err()
		}
		served := httptest.NewRequest(r.Method, r.URL.String(), nil)
		served.Header = r.Header
		answer := httptest.NewRecorder()
		g.ServeHTTP(answer, served)
		return answer.Result(), nil
	})
	svc, sleeper := newTestService(t, g.server, Config{CallTimeout: 50 * time.Millisecond})
	client := svc.Client(&http.Client{Transport: &bearerTransport{token: g.IssueToken(account).AccessToken, base: inProcess}}, account)

	got, err := client.listUnread(t.Context(), client.newSemaphore(), "", 50)

	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("listUnread() = %+v, err = %v; want %+v, err = nil", got, err, want)
	}
	if got := calls.Load(); got != 2 {
		t.Errorf("listUnread() made %d calls; want 2", got)
	}
	if got, want := sleeper.recorded(), []time.Duration{200 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("listUnread() waited %v; want %v", got, want)
	}
}

func TestRetryStopsWhenTheCallerCancelsTheWait(t *testing.T) {
	g := newSandboxGmail(t)
	g.InjectFaults(sandbox.Fault{Call: "list", Status: 503})
	ctx, cancel := context.WithCancel(t.Context())
	client, _ := g.client(t, Config{
		Sleep: func(ctx context.Context, _ time.Duration) error {
			cancel()
			return ctx.Err()
		},
	})

	_, err := client.Unread(ctx, "", 0)

	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("Unread() err = %v; want ErrUnavailable and context.Canceled", err)
	}
	if got := g.Stats().GmailCalls; got != 1 {
		t.Errorf("Unread() made %d calls; want 1", got)
	}
}

func TestBackoffLimit(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{1, 200 * time.Millisecond},
		{2, 400 * time.Millisecond},
		{5, 3200 * time.Millisecond},
		{6, 5 * time.Second},
		{60, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := backoffLimit(tt.failures); got != tt.want {
			t.Errorf("backoffLimit(%d) = %v; want %v", tt.failures, got, tt.want)
		}
	}
}

func TestDefaultSleep(t *testing.T) {
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		wait    time.Duration
		wantErr error
	}{
		{"a short wait ends", t.Context(), time.Millisecond, nil},
		{"the context ending stops a long wait", canceled, time.Hour, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := sleepContext(tt.ctx, tt.wait); !errors.Is(err, tt.wantErr) {
				t.Errorf("sleepContext(%v) = %v; want %v", tt.wait, err, tt.wantErr)
			}
		})
	}
}

func TestDefaultJitterStaysBelowMax(t *testing.T) {
	for _, limit := range []time.Duration{-time.Second, 0, 1, 200 * time.Millisecond, 5 * time.Second} {
		for range 100 {
			if got := uniformJitter(limit); got < 0 || (limit > 0 && got >= limit) || (limit <= 0 && got != 0) {
				t.Fatalf("uniformJitter(%v) = %v; want in [0, %v), or 0 when the limit ≤ 0", limit, got, limit)
			}
		}
	}
}
