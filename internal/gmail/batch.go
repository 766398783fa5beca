package gmail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fetchResult is the outcome of fetching one message's metadata.
type fetchResult struct {
	msg Message
	err error
}

// fetchMetadata fetches the metadata of ids in Gmail batch requests of at
// most BatchSize calls, sent at once within sem. It is one loop of
// attempts, under the backoff rules of a single call: each attempt sends
// its batches, and sends again in halves each batch whose answer is over
// MaxResponseBytes, down to single messages, so only a message whose own
// answer is too long fails for it (and Unread remembers it for a while, so
// the next view does not ask for it again). A split spends none of the
// attempts: each message gets one answer per attempt. Messages whose
// answer is a failure worth retrying go again in the next attempt; the
// others keep their outcome.
func (c *Client) fetchMetadata(ctx context.Context, sem semaphore, ids []string) map[string]fetchResult {
	results := make(map[string]fetchResult, len(ids))
	var valid []string
	for _, id := range ids {
		if validMessageID(id) {
			valid = append(valid, id)
		} else {
			results[id] = fetchResult{err: fmt.Errorf("%w: list returned an invalid message id", ErrBadResponse)}
		}
	}
	pending := slices.Collect(slices.Chunk(valid, c.svc.cfg.BatchSize))
	err := c.retry(ctx, "batch", func() error {
		var again [][]string
		// The failure with the longest Retry-After decides the wait, so that
		// the next attempt honours every part's advice.
		var slowest error
		for len(pending) > 0 {
			var halves [][]string
			for _, batch := range c.sendBatches(ctx, sem, pending) {
				if errors.Is(batch.err, errTooLong) && len(batch.ids) > 1 {
					half := len(batch.ids) / 2
					halves = append(halves, batch.ids[:half], batch.ids[half:])
					continue
				}
				var retry []string
				for i, id := range batch.ids {
					results[id] = batch.outcome(i)
					if err := results[id].err; err != nil && isRetryable(err) {
						retry = append(retry, id)
						if slowest == nil || RetryAfter(err) > RetryAfter(slowest) {
							slowest = err
						}
					}
				}
				// A retry keeps to the batch its messages were answered in:
				// together with the retries of another half, their answers
				// could be too long again, and Gmail's quota spent on answers
				// thrown away.
				if len(retry) > 0 {
					again = append(again, retry)
				}
			}
			pending = halves
		}
		pending = again
		return slowest
	})
	if err != nil {
		c.svc.cfg.Logger.Warn("gmail: batch left messages without metadata", "messages", len(slices.Concat(pending...)), "err", err)
	}
	return results
}

// answeredBatch is the answer to one batch request: an outcome per ID, in
// the order of ids, or err for the request as a whole.
type answeredBatch struct {
	ids      []string
	outcomes []fetchResult
	err      error
}

// outcome is the outcome for ids[i].
func (b answeredBatch) outcome(i int) fetchResult {
	switch {
	case errors.Is(b.err, errTooLong):
		return fetchResult{err: fmt.Errorf("the answer for this message alone: %w", b.err)}
	case b.err != nil:
		return fetchResult{err: b.err}
	}
	return b.outcomes[i]
}

// sendBatches sends a batch request for each of batches at once, within
// sem, and returns their answers.
func (c *Client) sendBatches(ctx context.Context, sem semaphore, batches [][]string) []answeredBatch {
	answers := make([]answeredBatch, len(batches))
	var wg sync.WaitGroup
	for i, ids := range batches {
		wg.Go(func() {
			outcomes, err := c.sendBatch(ctx, sem, ids)
			answers[i] = answeredBatch{ids: ids, outcomes: outcomes, err: err}
		})
	}
	wg.Wait()
	return answers
}

// sendBatch makes one batch request for the metadata of ids and returns an
// outcome per ID, in the order of ids. The error is for the batch request as
// a whole.
func (c *Client) sendBatch(ctx context.Context, sem semaphore, ids []string) ([]fetchResult, error) {
	body, contentType, err := encodeBatchRequest(c.svc.base.Path, ids)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, sem, apiCall{name: "batch", method: http.MethodPost, path: batchPath, body: body, contentType: contentType})
	if err != nil {
		return nil, err
	}
	parts, decodeErr := decodeBatchResponse(resp.header.Get("Content-Type"), resp.body, len(ids))
	now := c.svc.cfg.Now()
	outcomes := make([]fetchResult, len(ids))
	for i, id := range ids {
		part, ok := parts[i+1]
		switch {
		case ok:
			c.svc.cfg.Metrics.GmailCall("messages.get", part.status, 0)
			outcomes[i] = part.result(id, now)
		case decodeErr != nil:
			outcomes[i] = fetchResult{err: decodeErr}
		default:
			outcomes[i] = fetchResult{err: fmt.Errorf("%w: batch response has no part for message %s", ErrBadResponse, id)}
		}
	}
	return outcomes, nil
}

// encodeBatchRequest builds the body of a batch request for the metadata of
// ids and returns it with its Content-Type. Part n, Content-ID <n>, asks for
// ids[n-1]. The parts carry no Authorization: the outer request's applies.
// pathPrefix is BaseURL's path, so inner requests address the same resources
// as single calls would; ids must satisfy validMessageID.
func encodeBatchRequest(pathPrefix string, ids []string) ([]byte, string, error) {
	var body bytes.Buffer
	writer := multipart.NewWriter(&body)
	query := metadataQuery().Encode() + "&" + compactJSON
	for i, id := range ids {
		part, err := writer.CreatePart(textproto.MIMEHeader{
			"Content-Type": {"application/http"},
			"Content-ID":   {"<" + strconv.Itoa(i+1) + ">"},
		})
		if err != nil {
			return nil, "", fmt.Errorf("batch part: %w", err)
		}
		if _, err := fmt.Fprintf(part, "GET %s%s/%s?%s HTTP/1.1\r\n\r\n", pathPrefix, messagesPath, id, query); err != nil {
			return nil, "", fmt.Errorf("batch part: %w", err)
		}
	}
	if err := writer.Close(); err != nil {
		return nil, "", fmt.Errorf("batch body: %w", err)
	}
	contentType := mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": writer.Boundary()})
	return body.Bytes(), contentType, nil
}

// batchPart is one HTTP response inside a batch response, or why it could
// not be read.
type batchPart struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// decodeBatchResponse parses the multipart/mixed response to a batch of n
// calls and returns its parts by call number, 1 to n, matched by Content-ID
// ("response-<n>", angle brackets optional) because Gmail need not keep the
// order. Parts for other Content-IDs, and repeats, are ignored. When the
// multipart structure breaks, the parts read so far are returned with an
// ErrBadResponse error.
func decodeBatchResponse(contentType string, body []byte, n int) (map[int]batchPart, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("%w: batch content type: %w", ErrBadResponse, err)
	}
	if mediaType != "multipart/mixed" || params["boundary"] == "" {
		return nil, fmt.Errorf("%w: batch content type %.100q is not multipart/mixed with a boundary", ErrBadResponse, contentType)
	}
	reader := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	parts := make(map[int]batchPart, n)
	for {
		part, err := reader.NextRawPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return parts, fmt.Errorf("%w: batch: %w", ErrBadResponse, err)
		}
		number, ok := parseResponseContentID(part.Header.Get("Content-ID"), n)
		if !ok {
			continue
		}
		if _, seen := parts[number]; seen {
			continue
		}
		parts[number] = readBatchPart(part)
	}
}

// parseResponseContentID returns n from "response-<n>" or "<response-n>"
// when 1 ≤ n ≤ parts.
func parseResponseContentID(value string, parts int) (int, bool) {
	value = strings.TrimSpace(value)
	value = strings.TrimSuffix(strings.TrimPrefix(value, "<"), ">")
	digits, ok := strings.CutPrefix(value, "response-")
	if !ok {
		return 0, false
	}
	digits = strings.TrimSuffix(strings.TrimPrefix(digits, "<"), ">")
	number, err := strconv.Atoi(digits)
	if err != nil || number < 1 || number > parts {
		return 0, false
	}
	return number, true
}

func readBatchPart(part io.Reader) batchPart {
	resp, err := http.ReadResponse(bufio.NewReader(part), nil)
	if err != nil {
		return batchPart{err: fmt.Errorf("%w: batch part: %w", ErrBadResponse, err)}
	}
	defer resp.Body.Close()
	// The whole batch body is already bounded by MaxResponseBytes.
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return batchPart{err: fmt.Errorf("%w: batch part body: %w", ErrBadResponse, err)}
	}
	return batchPart{status: resp.StatusCode, header: resp.Header, body: body}
}

// result turns the part answering the call for message id into its outcome.
func (p batchPart) result(id string, now time.Time) fetchResult {
	if p.err != nil {
		return fetchResult{err: p.err}
	}
	if p.status < 200 || p.status > 299 {
		return fetchResult{err: newAPIError(p.status, p.header, p.body, now)}
	}
	var raw messageJSON
	if err := decodeJSON(p.body, &raw); err != nil {
		return fetchResult{err: err}
	}
	msg, err := raw.message(id)
	return fetchResult{msg: msg, err: err}
}
