package gmail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

const (
	backoffBase = 200 * time.Millisecond
	backoffCap  = 5 * time.Second
)

// semaphore caps the HTTP calls one Client operation has in flight, because
// Gmail limits concurrent requests per user.
type semaphore chan struct{}

func newSemaphore(n int) semaphore { return make(semaphore, n) }

func (s semaphore) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s semaphore) release() { <-s }

// apiCall describes one HTTP call below BaseURL. It holds the body as bytes
// because every attempt needs a fresh reader.
type apiCall struct {
	name        string // the Gmail API method, as the metrics name it: "messages.list", "batch"
	method      string
	path        string // e.g. "/gmail/v1/users/me/profile"; only characters that need no escaping
	query       url.Values
	body        []byte
	contentType string
	// maxBytes, when set, is the most bytes read of the answer, below
	// MaxResponseBytes: for a call whose answer has a size the request
	// bounds.
	maxBytes int64
}

// errTooLong is a response body over MaxResponseBytes.
var errTooLong = fmt.Errorf("%w: body too long", ErrBadResponse)

// apiResponse is a successful (2xx) response, its body read in full.
type apiResponse struct {
	header http.Header
	body   []byte
}

// compactJSON asks Google for JSON without indentation, which it sends by
// default: a third fewer bytes to read and decode.
const compactJSON = "prettyPrint=false"

func (c *Client) endpoint(path string, query url.Values) string {
	u := *c.svc.base
	u.Path = c.svc.base.Path + path
	u.RawQuery = query.Encode()
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += compactJSON
	return u.String()
}

// send makes one attempt of call, holding a slot of sem while the request is
// in flight and bounding it by CallTimeout.
func (c *Client) send(ctx context.Context, sem semaphore, call apiCall) (apiResponse, error) {
	if err := sem.acquire(ctx); err != nil {
		return apiResponse{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer sem.release()

	callCtx, cancel := context.WithTimeout(ctx, c.svc.cfg.CallTimeout)
	defer cancel()
	var body io.Reader
	if call.body != nil {
		body = bytes.NewReader(call.body)
	}
	req, err := http.NewRequestWithContext(callCtx, call.method, c.endpoint(call.path, call.query), body)
	if err != nil {
		return apiResponse{}, fmt.Errorf("new request: %w", err)
	}
	if call.contentType != "" {
		req.Header.Set("Content-Type", call.contentType)
	}
	start := c.svc.cfg.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.svc.cfg.Metrics.GmailCall(call.name, 0, c.svc.cfg.Now().Sub(start))
		return apiResponse{}, transportError(ctx, err)
	}
	defer resp.Body.Close()
	c.svc.cfg.Metrics.GmailCall(call.name, resp.StatusCode, c.svc.cfg.Now().Sub(start))

	limit := c.svc.cfg.MaxResponseBytes
	if call.maxBytes > 0 {
		limit = min(limit, call.maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return apiResponse{}, transportError(ctx, fmt.Errorf("reading body: %w", err))
	}
	tooLong := int64(len(data)) > limit
	if tooLong {
		data = data[:limit]
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apiResponse{}, newAPIError(resp.StatusCode, resp.Header, data, c.svc.cfg.Now())
	}
	if tooLong {
		return apiResponse{}, fmt.Errorf("%w: longer than %d bytes", errTooLong, limit)
	}
	return apiResponse{header: resp.Header, body: data}, nil
}

// transportError classifies a failure to get or read a response. The
// caller's context ending is final; one call timing out is worth another
// attempt; a broken connection is ErrUnavailable. Anything else, such as the
// oauth2 transport failing to refresh the token, stays as it is so the caller
// can errors.As it.
func transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, ctxErr)
	}
	if netErr, ok := errors.AsType[net.Error](err); (ok && netErr.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
		return &timeoutError{err: err}
	}
	if _, ok := errors.AsType[*net.OpError](err); ok || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// retry runs attempt until it succeeds, fails for good, has run MaxAttempts
// times, or the next wait would pass ctx's deadline. Waits grow
// exponentially with full jitter; a Retry-After is the minimum wait. It
// returns attempt's last error.
func (c *Client) retry(ctx context.Context, op string, attempt func() error) error {
	cfg := &c.svc.cfg
	for attempts := 1; ; attempts++ {
		err := attempt()
		if err == nil || !isRetryable(err) {
			return err
		}
		if attempts >= cfg.MaxAttempts {
			cfg.Logger.Warn("gmail: giving up", "op", op, "attempts", attempts, "err", err)
			return err
		}
		wait := max(cfg.Jitter(backoffLimit(attempts)), RetryAfter(err))
		if deadline, ok := ctx.Deadline(); ok && cfg.Now().Add(wait).After(deadline) {
			cfg.Logger.Warn("gmail: giving up before the deadline", "op", op, "attempts", attempts, "wait", wait, "err", err)
			return withRetryAfter(err, wait)
		}
		cfg.Logger.Debug("gmail: retrying", "op", op, "attempt", attempts, "wait", wait, "err", err)
		if sleepErr := cfg.Sleep(ctx, wait); sleepErr != nil {
			return fmt.Errorf("%w: waiting to retry after %v: %w", ErrUnavailable, err, sleepErr)
		}
	}
}

// backoffLimit is the longest wait after the given number of failed
// attempts: backoffBase doubling per failure, capped at backoffCap.
func backoffLimit(failures int) time.Duration {
	limit := backoffBase
	for range failures - 1 {
		limit *= 2
		if limit >= backoffCap {
			return backoffCap
		}
	}
	return limit
}

// getJSON makes call, a GET, with retries and decodes the JSON body into
// dst.
func (c *Client) getJSON(ctx context.Context, sem semaphore, call apiCall, dst any) error {
	call.method = http.MethodGet
	return c.retry(ctx, call.name, func() error {
		resp, err := c.send(ctx, sem, call)
		if err != nil {
			return err
		}
		return decodeJSON(resp.body, dst)
	})
}

func decodeJSON(body []byte, dst any) error {
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return nil
}
