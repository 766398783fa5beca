package gmailapi

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Fault describes how one Gmail call (or batch part) misbehaves. A Fault with
// no Status, Delay or Malformed lets its call through unchanged, which is a
// way to aim the next fault at a later call.
type Fault struct {
	// Call is "list", "get", "profile", "labels", "threads", "history",
	// "modify", "insert", "batch" (the outer batch request) or
	// "" for any Gmail call. A batch part counts as the call of its inner request.
	Call string
	// Status answers with Google's error JSON and this HTTP status (4xx or
	// 5xx). A 403 is insufficientPermissions unless Reason says otherwise; a
	// 429 is Gmail's "Too many concurrent requests for user."
	Status int
	// Reason, with Status 403 only, makes the 403 a rate limit:
	// "rateLimitExceeded" (the project's quota) or "userRateLimitExceeded"
	// (one user's), in domain usageLimits, as Gmail sends them.
	Reason string
	// RetryAfter sets the Retry-After header, in whole seconds rounded up.
	RetryAfter time.Duration
	// Delay holds the answer back this long, or until the request is
	// cancelled. With Status or Malformed, the delay comes first.
	Delay time.Duration
	// Malformed answers 200 with the normal body cut short, so it is not valid JSON.
	Malformed bool
}

// FaultRates makes Gmail calls, batch parts and outer batch requests fail at
// random, for load tests. Each call draws once: P500, P429, P403, PSlow and
// PMalformed are the probabilities of the five outcomes (their sum should be
// at most 1). P403 answers 403 userRateLimitExceeded, Gmail's other way of
// saying 429. The zero value injects nothing.
type FaultRates struct {
	P500, P429, P403, PSlow, PMalformed float64
	SlowDelay                           time.Duration // how long a slow call is held back
	RetryAfter                          time.Duration // Retry-After of the 429s and 403s, if > 0
}

type faultInjector struct {
	mu     sync.Mutex
	queued []Fault
	rates  FaultRates
}

// InjectFaults queues faults. Each Gmail call or batch part consumes the first
// queued fault whose Call matches it, so faults fire in order. It panics on a
// Call or Status that could never be meant, since a typo would otherwise make
// a test silently pass.
func (s *API) InjectFaults(faults ...Fault) {
	for _, f := range faults {
		switch f.Call {
		case "", callList, callGet, callProfile, callBatch, callLabels, callThreads, callHistory, callModify, callInsert:
		default:
			panic(fmt.Sprintf("sandbox: InjectFaults: unknown Call %q (want list, get, profile, batch or empty)", f.Call))
		}
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			panic(fmt.Sprintf("sandbox: InjectFaults: Status %d is not an error status", f.Status))
		}
		if f.Reason != "" && (f.Status != http.StatusForbidden || f.Reason != reasonRateLimit && f.Reason != reasonUserRateLimit) {
			panic(fmt.Sprintf("sandbox: InjectFaults: Reason %q with Status %d (want %s or %s with 403)",
				f.Reason, f.Status, reasonRateLimit, reasonUserRateLimit))
		}
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.queued = append(s.faults.queued, faults...)
}

// SetFaultRates replaces the random fault rates; the zero value turns them off.
func (s *API) SetFaultRates(rates FaultRates) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rates = rates
}

// ClearFaults drops every queued fault and turns random faults off.
func (s *API) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.queued = nil
	s.faults.rates = FaultRates{}
}

// next returns the fault for a call of kind: the first matching queued fault,
// otherwise a random one drawn from the rates.
func (fi *faultInjector) next(kind string) (Fault, bool) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	for i, f := range fi.queued {
		if f.Call == "" || f.Call == kind {
			fi.queued = append(fi.queued[:i], fi.queued[i+1:]...)
			return f, true
		}
	}
	rates := fi.rates
	if rates == (FaultRates{}) {
		return Fault{}, false
	}
	// Fault injection needs no cryptographic randomness.
	draw := rand.Float64()
	switch {
	case draw < rates.P500:
		return Fault{Status: http.StatusInternalServerError}, true
	case draw < rates.P500+rates.P429:
		return Fault{Status: http.StatusTooManyRequests, RetryAfter: rates.RetryAfter}, true
	case draw < rates.P500+rates.P429+rates.P403:
		return Fault{Status: http.StatusForbidden, Reason: reasonUserRateLimit, RetryAfter: rates.RetryAfter}, true
	case draw < rates.P500+rates.P429+rates.P403+rates.PSlow:
		return Fault{Delay: rates.SlowDelay}, true
	case draw < rates.P500+rates.P429+rates.P403+rates.PSlow+rates.PMalformed:
		return Fault{Malformed: true}, true
	}
	return Fault{}, false
}

// serveWithFaults applies the next fault for a call of kind, then lets next
// answer unless the fault answers instead.
func (s *API) serveWithFaults(kind string, w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
	fault, ok := s.faults.next(kind)
	if !ok {
		next(w, r)
		return
	}
	if err := sleepContext(r.Context(), fault.Delay); err != nil {
		writeAPIError(w, r, errForStatus(http.StatusServiceUnavailable, ""))
		return
	}
	switch {
	case fault.Status != 0:
		if fault.RetryAfter > 0 {
			seconds := (fault.RetryAfter + time.Second - 1) / time.Second
			w.Header().Set("Retry-After", strconv.FormatInt(int64(seconds), 10))
		}
		s.log.Debug("sandbox: injected fault", "call", kind, "status", fault.Status, "reason", fault.Reason)
		writeAPIError(w, r, errForStatus(fault.Status, fault.Reason))
	case fault.Malformed:
		s.log.Debug("sandbox: injected malformed response", "call", kind)
		buffer := newResponseBuffer()
		next(buffer, r)
		buffer.writeTruncated(w)
	default:
		next(w, r)
	}
}

// OverNetwork makes next, an endpoint a client's server calls (token,
// revocation, a Gmail call, a batch as a whole), wait the latency set by
// SetLatency before it answers, as if Google were a network away. Pages a
// browser opens are served at once: the latency stands for the network
// between an app's server and Google, not the person's.
func (s *API) OverNetwork(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sleepContext(r.Context(), time.Duration(s.latency.Load())); err != nil {
			return // the client is gone; nobody reads an answer
		}
		next.ServeHTTP(w, r)
	})
}

// sleepContext waits for d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("sleep: %w", ctx.Err())
	case <-timer.C:
		return nil
	}
}

// responseBuffer is an in-memory http.ResponseWriter, used to answer batch
// parts and to mangle responses for malformed-body faults.
type responseBuffer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newResponseBuffer() *responseBuffer {
	return &responseBuffer{header: make(http.Header)}
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	n, err := b.body.Write(p)
	if err != nil {
		return n, fmt.Errorf("buffer response: %w", err)
	}
	return n, nil
}

// writeTruncated sends the buffered headers with 200 and only the first half
// of the body. A proper prefix of a JSON object or of a multipart body never
// parses, which is what a dropped connection mid-response looks like.
func (b *responseBuffer) writeTruncated(w http.ResponseWriter) {
	for name, values := range b.header {
		w.Header()[name] = values
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(http.StatusOK)
	body := b.body.Bytes()
	// The status is already sent; a failed write means the client went away.
	_, _ = w.Write(body[:len(body)/2])
}
