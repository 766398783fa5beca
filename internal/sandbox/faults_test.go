package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

func TestInjectedFaultsAreConsumedInOrder(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	f.sandbox.InjectFaults(
		sandbox.Fault{Call: "list", Status: http.StatusInternalServerError},
		sandbox.Fault{Call: "list", Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond},
		sandbox.Fault{Call: "list", Malformed: true},
	)
	wantGoogleError(t, "first list", f.gmail(t, token, listPath), http.StatusInternalServerError, "INTERNAL", "backendError")

	second := f.gmail(t, token, listPath)
	wantGoogleError(t, "second list", second, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "rateLimitExceeded")
	if got := second.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q; want 2 (1.5 s rounded up)", got)
	}

	third := f.gmail(t, token, listPath)
	wantStatus(t, third, http.StatusOK)
	if json.Valid(third.body) || len(third.body) == 0 {
		t.Errorf("malformed fault body is valid JSON (or empty):\n%s", third.body)
	}

	fourth := f.gmail(t, token, listPath)
	wantStatus(t, fourth, http.StatusOK)
	if !json.Valid(fourth.body) {
		t.Errorf("after the faults ran out the body is still broken:\n%s", fourth.body)
	}
}

func TestFaultsMatchTheirCall(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	id := f.listAll(t, token, "maxResults=1")[0]
	getPath := listPath + "/" + id
	f.sandbox.InjectFaults(
		sandbox.Fault{Call: "get", Status: http.StatusServiceUnavailable},
		sandbox.Fault{Call: "", Status: http.StatusInternalServerError},
	)
	steps := []struct {
		path       string
		wantStatus int
	}{
		{getPath, http.StatusServiceUnavailable},      // the get fault
		{profilePath, http.StatusInternalServerError}, // the catch-all fault
		{listPath, http.StatusOK},
		{getPath, http.StatusOK},
	}
	for i, step := range steps {
		if got := f.gmail(t, token, step.path).status; got != step.wantStatus {
			t.Errorf("call %d, GET %s = %d; want %d", i+1, step.path, got, step.wantStatus)
		}
	}
}

func TestFaultStatusesUseGoogleErrors(t *testing.T) {
	tests := []struct {
		status      int
		reason      string
		wantState   string
		wantReason  string
		wantMessage string
	}{
		{status: http.StatusUnauthorized, wantState: "UNAUTHENTICATED", wantReason: "authError"},
		{status: http.StatusForbidden, wantState: "PERMISSION_DENIED", wantReason: "insufficientPermissions", wantMessage: "Request had insufficient authentication scopes."},
		{status: http.StatusForbidden, reason: "rateLimitExceeded", wantState: "PERMISSION_DENIED", wantReason: "rateLimitExceeded", wantMessage: "Rate Limit Exceeded"},
		{status: http.StatusForbidden, reason: "userRateLimitExceeded", wantState: "PERMISSION_DENIED", wantReason: "userRateLimitExceeded", wantMessage: "User Rate Limit Exceeded"},
		{status: http.StatusNotFound, wantState: "NOT_FOUND", wantReason: "notFound", wantMessage: "Requested entity was not found."},
		{status: http.StatusTooManyRequests, wantState: "RESOURCE_EXHAUSTED", wantReason: "rateLimitExceeded", wantMessage: "Too many concurrent requests for user."},
		{status: http.StatusInternalServerError, wantState: "INTERNAL", wantReason: "backendError"},
		{status: http.StatusServiceUnavailable, wantState: "UNAVAILABLE", wantReason: "backendError"},
	}
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.wantReason), func(t *testing.T) {
			f.sandbox.InjectFaults(sandbox.Fault{Call: "profile", Status: tt.status, Reason: tt.reason})
			resp := f.gmail(t, token, profilePath)
			wantGoogleError(t, "GET profile", resp, tt.status, tt.wantState, tt.wantReason)
			var body googleError
			resp.decode(t, &body)
			if tt.wantMessage != "" && body.Error.Message != tt.wantMessage {
				t.Errorf("message = %q; want Google's %q", body.Error.Message, tt.wantMessage)
			}
			if resp.header.Get("Retry-After") != "" {
				t.Errorf("Retry-After = %q; want none without Fault.RetryAfter", resp.header.Get("Retry-After"))
			}
		})
	}
}

func TestFaultDelay(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken

	f.sandbox.InjectFaults(sandbox.Fault{Call: "profile", Delay: 30 * time.Millisecond})
	start := time.Now()
	wantStatus(t, f.gmail(t, token, profilePath), http.StatusOK)
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Errorf("delayed call took %v; want at least 30ms", elapsed)
	}

	f.sandbox.InjectFaults(sandbox.Fault{Call: "profile", Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+profilePath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GET profile with an hour's delay = %v; want the client's deadline to end it", err)
	}
	// httptest.Server.Close, run at cleanup, waits for the handler, so an
	// hour-long sleep that ignored cancellation would hang the test.
}

func TestFaultsInBatches(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	ids := f.listAll(t, token, "maxResults=3")[:3]
	parts := []batchPart{}
	for i, id := range ids {
		parts = append(parts, getPart(fmt.Sprintf("<%d>", i), listPath+"/"+id))
	}

	t.Run("parts consume get faults", func(t *testing.T) {
		f.sandbox.InjectFaults(sandbox.Fault{Call: "get", Status: http.StatusInternalServerError}, sandbox.Fault{Call: "get", Malformed: true})
		_, responses := f.batch(t, token, parts)
		var failed, malformed, fine int
		for _, part := range responses {
			switch {
			case part.status == http.StatusInternalServerError:
				failed++
			case part.status == http.StatusOK && !json.Valid(part.body):
				malformed++
			case part.status == http.StatusOK:
				fine++
			}
		}
		// Parts run concurrently, so which part meets which fault varies.
		if failed != 1 || malformed != 1 || fine != 1 {
			t.Errorf("parts: %d failed, %d malformed, %d fine; want one of each", failed, malformed, fine)
		}
	})

	t.Run("batch fault fails the whole request", func(t *testing.T) {
		f.sandbox.InjectFaults(sandbox.Fault{Call: "batch", Status: http.StatusServiceUnavailable, RetryAfter: time.Second})
		f.sandbox.ResetStats()
		resp, _ := f.batch(t, token, parts)
		wantGoogleError(t, "POST batch", resp, http.StatusServiceUnavailable, "UNAVAILABLE", "backendError")
		if got := resp.header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q; want 1", got)
		}
		if got := f.sandbox.Stats().BatchParts; got != 0 {
			t.Errorf("Stats().BatchParts = %d; want 0 when the batch itself failed", got)
		}
	})

	t.Run("malformed batch", func(t *testing.T) {
		f.sandbox.InjectFaults(sandbox.Fault{Call: "batch", Malformed: true})
		resp := f.do(t, f.batchRequest(t, token, parts))
		wantStatus(t, resp, http.StatusOK)
		if err := readAllParts(resp); err == nil {
			t.Errorf("malformed batch body parses cleanly:\n%s", resp.body)
		}
	})
}

// readAllParts reads a multipart response to the end and reports the first
// error, if any.
func readAllParts(resp response) error {
	_, params, err := mime.ParseMediaType(resp.header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("content type: %w", err)
	}
	reader := multipart.NewReader(bytes.NewReader(resp.body), params["boundary"])
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("next part: %w", err)
		}
		if _, err := io.ReadAll(part); err != nil {
			return fmt.Errorf("read part: %w", err)
		}
	}
}

func TestFaultRates(t *testing.T) {
	tests := []struct {
		name           string
		rates          sandbox.FaultRates
		wantStatus     int
		wantRetryAfter string
		wantValidJSON  bool
	}{
		{name: "none", rates: sandbox.FaultRates{}, wantStatus: http.StatusOK, wantRetryAfter: "", wantValidJSON: true},
		{name: "always 500", rates: sandbox.FaultRates{P500: 1}, wantStatus: http.StatusInternalServerError, wantRetryAfter: "", wantValidJSON: true},
		{name: "always 429", rates: sandbox.FaultRates{P429: 1, RetryAfter: 3 * time.Second}, wantStatus: http.StatusTooManyRequests, wantRetryAfter: "3", wantValidJSON: true},
		{name: "always 403 rate limit", rates: sandbox.FaultRates{P403: 1, RetryAfter: 2 * time.Second}, wantStatus: http.StatusForbidden, wantRetryAfter: "2", wantValidJSON: true},
		{name: "always slow", rates: sandbox.FaultRates{PSlow: 1, SlowDelay: time.Millisecond}, wantStatus: http.StatusOK, wantRetryAfter: "", wantValidJSON: true},
		{name: "always malformed", rates: sandbox.FaultRates{PMalformed: 1}, wantStatus: http.StatusOK, wantRetryAfter: "", wantValidJSON: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			token := f.sandbox.IssueToken(hanako).AccessToken
			f.sandbox.SetFaultRates(tt.rates)
			for range 3 {
				resp := f.gmail(t, token, profilePath)
				if resp.status != tt.wantStatus || resp.header.Get("Retry-After") != tt.wantRetryAfter || json.Valid(resp.body) != tt.wantValidJSON {
					t.Fatalf("GET profile = %d, Retry-After %q, valid JSON %v; want %d, %q, %v",
						resp.status, resp.header.Get("Retry-After"), json.Valid(resp.body), tt.wantStatus, tt.wantRetryAfter, tt.wantValidJSON)
				}
			}
			f.sandbox.ClearFaults()
			wantStatus(t, f.gmail(t, token, profilePath), http.StatusOK)
		})
	}
}

func TestInjectFaultsRefusesTypos(t *testing.T) {
	tests := []sandbox.Fault{
		{Call: "lists", Status: http.StatusInternalServerError},
		{Call: "list", Status: http.StatusOK},
		{Call: "list", Status: http.StatusTooManyRequests, Reason: "rateLimitExceeded"},
		{Call: "list", Status: http.StatusForbidden, Reason: "userRateLimitExceded"},
	}
	for _, fault := range tests {
		t.Run(fmt.Sprintf("%+v", fault), func(t *testing.T) {
			f := newFixture(t)
			defer func() {
				if recover() == nil {
					t.Errorf("InjectFaults(%+v) did not panic", fault)
				}
			}()
			f.sandbox.InjectFaults(fault)
		})
	}
}

func TestMaxInFlight(t *testing.T) {
	const concurrent = 8
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	for range 3 {
		wantStatus(t, f.gmail(t, token, profilePath), http.StatusOK)
	}
	if got := f.sandbox.Stats().MaxInFlight; got != 1 {
		t.Errorf("MaxInFlight after sequential calls = %d; want 1", got)
	}

	// Hold every call until the context ends, so all of them overlap.
	faults := make([]sandbox.Fault, concurrent)
	for i := range faults {
		faults[i] = sandbox.Fault{Call: "profile", Delay: time.Hour}
	}
	f.sandbox.InjectFaults(faults...)
	f.sandbox.ResetStats()
	ctx, cancel := context.WithCancel(context.Background())
	var group sync.WaitGroup
	for range concurrent {
		group.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+profilePath, nil)
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.sandbox.Stats().MaxInFlight < concurrent && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	cancel()
	group.Wait()
	stats := f.sandbox.Stats()
	if stats.MaxInFlight != concurrent || stats.GmailCalls != concurrent {
		t.Errorf("Stats() = %+v; want MaxInFlight and GmailCalls %d", stats, concurrent)
	}
}

func TestStatsCountEveryEndpoint(t *testing.T) {
	f := newFixture(t)
	tokens := f.signIn(t, hanako)
	f.postForm(t, sandbox.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens.RefreshToken},
		"client_id": {clientID}, "client_secret": {clientSecret}})
	f.gmail(t, tokens.AccessToken, listPath)
	f.gmail(t, tokens.AccessToken, profilePath)
	f.batch(t, tokens.AccessToken, []batchPart{getPart("<1>", profilePath), getPart("<2>", profilePath)})
	f.postForm(t, sandbox.RevokePath, url.Values{"token": {tokens.RefreshToken}})
	want := sandbox.Stats{GmailCalls: 3, BatchParts: 2, TokenCalls: 2, RevokeCalls: 1, RefreshGrants: 1, MaxInFlight: 1}
	if got := f.sandbox.Stats(); got != want {
		t.Errorf("Stats() = %+v; want %+v", got, want)
	}
	f.sandbox.ResetStats()
	if got := f.sandbox.Stats(); got != (sandbox.Stats{}) {
		t.Errorf("Stats() after ResetStats = %+v; want zeros", got)
	}
}
