package gmail

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, one per way a call can fail that the web layer handles
// differently. Errors returned by this package wrap at most one of them;
// match with errors.Is.
var (
	// ErrUnauthorized means Gmail rejected the token (HTTP 401): it is
	// invalid, expired or revoked, and the user has to sign in again.
	ErrUnauthorized = errors.New("gmail: unauthorized")
	// ErrForbidden means HTTP 403 for a reason other than rate limiting,
	// e.g. insufficientPermissions.
	ErrForbidden = errors.New("gmail: forbidden")
	// ErrNotFound means HTTP 404, or a message ID that cannot exist.
	ErrNotFound = errors.New("gmail: not found")
	// ErrRateLimited means HTTP 429, or 403 with reason rateLimitExceeded or
	// userRateLimitExceeded, which is how Gmail often reports it.
	ErrRateLimited = errors.New("gmail: rate limited")
	// ErrUnavailable means HTTP 5xx, a timeout, a connection failure or the
	// caller's context ending.
	ErrUnavailable = errors.New("gmail: unavailable")
	// ErrBadResponse means the body was not what Gmail sends: not the
	// expected JSON, too large, or an unparseable batch.
	ErrBadResponse = errors.New("gmail: malformed response")
	// ErrBadRequest means any other HTTP 4xx, e.g. 400 for an invalid page
	// token: retrying the same request will not help.
	ErrBadRequest = errors.New("gmail: bad request")
)

// APIError is an HTTP error response from Gmail.
type APIError struct {
	Status  int    // HTTP status code
	Reason  string // errors[0].reason of Google's error body, else its status, e.g. "rateLimitExceeded"
	Message string // Google's error message, sanitised and bounded
	// RetryAfter is how long to wait before trying again: the Retry-After
	// header, or, when this package gave up because the wait would pass the
	// caller's deadline, at least that wait. 0 means no advice.
	RetryAfter time.Duration
	kind       error
}

// Error describes the failure without the response body beyond Google's
// message.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.kind != nil {
		b.WriteString(e.kind.Error())
	} else {
		b.WriteString("gmail: error response")
	}
	fmt.Fprintf(&b, ": HTTP %d", e.Status)
	if e.Reason != "" {
		b.WriteString(" " + e.Reason)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %v)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the sentinel matching the status and reason, so that
// errors.Is(err, ErrRateLimited) works.
func (e *APIError) Unwrap() error { return e.kind }

// RetryAfter returns the RetryAfter of the first APIError in err's chain, or
// 0 if there is none.
func RetryAfter(err error) time.Duration {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.RetryAfter
	}
	return 0
}

const (
	maxErrorMessageRunes = 300
	maxErrorReasonRunes  = 100
	// retryAfterCeiling keeps absurd Retry-After values from overflowing a
	// Duration; the caller's deadline decides long before.
	retryAfterCeiling = 24 * time.Hour
)

// googleErrorBody is the JSON error shape of Google APIs.
type googleErrorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
			Domain  string `json:"domain"`
			Reason  string `json:"reason"`
		} `json:"errors"`
		Status string `json:"status"`
	} `json:"error"`
}

// newAPIError builds the error for a non-2xx response. body may be anything:
// when it is not Google's error JSON the status alone decides.
func newAPIError(status int, header http.Header, body []byte, now time.Time) *APIError {
	apiErr := &APIError{
		Status:     status,
		RetryAfter: parseRetryAfter(header.Get("Retry-After"), now),
	}
	var parsed googleErrorBody
	if json.Unmarshal(body, &parsed) == nil {
		apiErr.Message = boundText(cleanText(parsed.Error.Message), maxErrorMessageRunes)
		reason := parsed.Error.Status
		if len(parsed.Error.Errors) > 0 && parsed.Error.Errors[0].Reason != "" {
			reason = parsed.Error.Errors[0].Reason
		}
		apiErr.Reason = boundText(cleanText(reason), maxErrorReasonRunes)
	}
	apiErr.kind = errorKind(status, apiErr.Reason)
	return apiErr
}

func errorKind(status int, reason string) error {
	switch {
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden && (reason == "rateLimitExceeded" || reason == "userRateLimitExceeded"):
		return ErrRateLimited
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 500 && status <= 599:
		return ErrUnavailable
	case status >= 400 && status <= 499:
		return ErrBadRequest
	default:
		// 1xx or 3xx where a final answer was due: not Gmail's protocol.
		return ErrBadResponse
	}
}

// retryable reports whether another attempt of the same call may succeed.
func (e *APIError) retryable() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return e.kind == ErrRateLimited
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date.
// Anything unparseable or in the past means no advice.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if seconds, err := strconv.ParseInt(value, 10, 64); err == nil {
		if seconds <= 0 {
			return 0
		}
		return time.Duration(min(seconds, int64(retryAfterCeiling/time.Second))) * time.Second
	}
	when, err := http.ParseTime(value)
	if err != nil {
		return 0
	}
	return min(max(when.Sub(now), 0), retryAfterCeiling)
}

// timeoutError is one call running out of CallTimeout. Unlike the caller's
// deadline passing, a later attempt may succeed.
type timeoutError struct {
	err error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%v: call timed out: %v", ErrUnavailable, e.err)
}

func (e *timeoutError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// isRetryable reports whether err, from one attempt, is worth another.
func isRetryable(err error) bool {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.retryable()
	}
	_, ok := errors.AsType[*timeoutError](err)
	return ok
}

// withRetryAfter returns err with its APIError advising a wait of at least
// wait, so that a page giving up can still tell the browser when to come
// back.
func withRetryAfter(err error, wait time.Duration) error {
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.RetryAfter >= wait {
		return err
	}
	advised := *apiErr
	advised.RetryAfter = wait
	return &advised
}
