package gmailapi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"

	"gmailoauth/internal/sandbox/oauth"
)

const (
	// maxBatchParts is Gmail's limit on requests per batch.
	maxBatchParts = 100
	// maxBatchBytes bounds a batch body; 100 GET requests need far less.
	maxBatchBytes = 4 << 20
)

// batchPart is one request of a batch, or why it could not be read.
type batchPart struct {
	index     int // position in the request
	contentID string
	request   *http.Request
	err       *apiError
}

// serveBatch is Gmail's batch endpoint: a multipart/mixed body of HTTP
// requests, answered by a multipart/mixed body of HTTP responses, in the same
// order unless ShuffleBatchResponses is on. Parts run concurrently, as at
// Google.
func (s *API) serveBatch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeAPIError(w, r, errMethodNotAllowed(r.Method))
		return
	}
	s.serveWithFaults(callBatch, w, r, func(w http.ResponseWriter, r *http.Request) {
		parts, apiErr := readBatch(w, r, s.strict)
		if apiErr != nil {
			writeAPIError(w, r, apiErr)
			return
		}
		responses := make([]*responseBuffer, len(parts))
		// Parsed once for every part; servePart only reads it.
		outerQuery := r.URL.Query()
		var group sync.WaitGroup
		for i, part := range parts {
			group.Go(func() { responses[i] = s.servePart(r, outerQuery, part) })
		}
		group.Wait()
		if s.shuffleBatches.Load() {
			shuffle(parts, responses)
		}
		writeBatchResponse(w, r, parts, responses)
	})
}

// readBatch parses the multipart body of a batch request.
func readBatch(w http.ResponseWriter, r *http.Request, strict bool) ([]batchPart, *apiError) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/mixed" || params["boundary"] == "" {
		return nil, errInvalidArgument(fmt.Sprintf("Failed to parse batch request: Content-Type must be multipart/mixed with a boundary, not %q.",
			r.Header.Get("Content-Type")))
	}
	reader := multipart.NewReader(http.MaxBytesReader(w, r.Body, maxBatchBytes), params["boundary"])
	var parts []batchPart
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errInvalidArgument("Failed to parse batch request: " + err.Error())
		}
		if len(parts) == maxBatchParts {
			return nil, errInvalidArgument(fmt.Sprintf("Too many requests in batch: the limit is %d.", maxBatchParts))
		}
		partType, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil || partType != "application/http" {
			return nil, errInvalidArgument(fmt.Sprintf("Failed to parse batch request: part %d has Content-Type %q; want application/http.",
				len(parts)+1, part.Header.Get("Content-Type")))
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return nil, errInvalidArgument("Failed to parse batch request: " + err.Error())
		}
		parsed := parsePart(part.Header.Get("Content-ID"), body, strict)
		parsed.index = len(parts)
		parts = append(parts, parsed)
	}
	if len(parts) == 0 {
		return nil, errInvalidArgument("Failed to parse batch request: the batch has no parts.")
	}
	return parts, nil
}

// parsePart reads the HTTP request inside a batch part, laid out as
// Google's batch guide shows it: a request line whose HTTP version may be
// left out, optional headers, and a blank line only before a body, with
// lines ending in CRLF or LF alone. The guide says the request line holds
// the path only; Google takes a full URL there too, which strict mode
// refuses, so that a client does not come to rely on it.
func parsePart(contentID string, body []byte, strict bool) batchPart {
	body = bytes.TrimLeft(body, "\r\n")
	requestLine, rest, _ := bytes.Cut(body, []byte("\n"))
	fields := strings.Fields(string(requestLine))
	if len(fields) < 2 || len(fields) > 3 {
		return partError(contentID, fmt.Sprintf("Failed to parse the HTTP request in a batch part: request line %.100q is not METHOD PATH [VERSION].", requestLine))
	}
	if len(fields) == 3 && !strings.HasPrefix(fields[2], "HTTP/1.") {
		return partError(contentID, fmt.Sprintf("Failed to parse the HTTP request in a batch part: %.20q is not an HTTP/1 version.", fields[2]))
	}
	if full, err := url.Parse(fields[1]); err == nil && full.IsAbs() && !strict {
		fields[1] = full.RequestURI()
	}
	if !strings.HasPrefix(fields[1], "/") || strings.HasPrefix(fields[1], "//") {
		return partError(contentID, fmt.Sprintf("Batch part request line holds %.100q; it must hold only the path of the URL, as full URLs are not allowed in batch requests (strict mode).", fields[1]))
	}
	head := fields[0] + " " + fields[1] + " HTTP/1.1\r\n"
	request, err := http.ReadRequest(bufio.NewReader(io.MultiReader(strings.NewReader(head), bytes.NewReader(withHeaderEnd(rest)))))
	if err != nil {
		return partError(contentID, "Failed to parse the HTTP request in a batch part: "+err.Error())
	}
	return batchPart{contentID: contentID, request: request}
}

// withHeaderEnd returns what follows the request line with the blank line
// that ends its headers, which the guide leaves out of body-less requests
// but net/http needs.
func withHeaderEnd(rest []byte) []byte {
	if bytes.HasPrefix(rest, []byte("\n")) || bytes.HasPrefix(rest, []byte("\r\n")) ||
		bytes.Contains(rest, []byte("\n\n")) || bytes.Contains(rest, []byte("\n\r\n")) {
		return rest
	}
	rest = bytes.TrimRight(rest, "\r\n")
	if len(rest) == 0 {
		return []byte("\r\n")
	}
	return append(rest, "\r\n\r\n"...)
}

func partError(contentID, message string) batchPart {
	return batchPart{contentID: contentID, err: errInvalidArgument(message)}
}

// servePart answers one part through the Gmail routes. As the batch guide
// says, the outer request's headers (except its Content- ones) and query
// parameters (outerQuery, read only) apply to every part unless the part
// sets its own.
func (s *API) servePart(outer *http.Request, outerQuery url.Values, part batchPart) *responseBuffer {
	s.stats.batchParts.Add(1)
	response := newResponseBuffer()
	if part.err != nil {
		writeAPIError(response, outer, part.err)
		return response
	}
	inner := part.request.WithContext(outer.Context())
	if !strings.HasPrefix(inner.URL.Path, "/gmail/v1/") {
		writeAPIError(response, inner, errInvalidArgument(fmt.Sprintf("Batch part path %q is not a Gmail API path; this is the Gmail batch endpoint.", inner.URL.Path)))
		return response
	}
	for name, values := range outer.Header {
		if !strings.HasPrefix(name, "Content-") && inner.Header.Get(name) == "" {
			inner.Header[name] = values
		}
	}
	if len(outerQuery) > 0 {
		query := inner.URL.Query()
		for name, values := range outerQuery {
			if !query.Has(name) {
				query[name] = values
			}
		}
		inner.URL.RawQuery = query.Encode()
	}
	s.gmail.ServeHTTP(response, inner)
	return response
}

// writeBatchResponse writes the parts' responses as Google does, each one an
// application/http part whose Content-ID is "response-" plus the request's.
func writeBatchResponse(w http.ResponseWriter, r *http.Request, parts []batchPart, responses []*responseBuffer) {
	body, contentType, err := encodeBatchResponse(parts, responses)
	if err != nil {
		writeAPIError(w, r, errForStatus(http.StatusInternalServerError, ""))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header()["Vary"] = []string{"Origin", "X-Origin", "Referer"}
	w.WriteHeader(http.StatusOK)
	// The status is already sent; a failed write means the client went away.
	_, _ = w.Write(body)
}

func encodeBatchResponse(parts []batchPart, responses []*responseBuffer) ([]byte, string, error) {
	var body bytes.Buffer
	writer := multipart.NewWriter(&body)
	if err := writer.SetBoundary("batch_" + oauth.RandomToken("")[:32]); err != nil {
		return nil, "", fmt.Errorf("batch boundary: %w", err)
	}
	for i, response := range responses {
		header := textproto.MIMEHeader{"Content-Type": {"application/http"}}
		if id := parts[i].contentID; id != "" {
			header.Set("Content-ID", responseContentID(id))
		}
		partWriter, err := writer.CreatePart(header)
		if err != nil {
			return nil, "", fmt.Errorf("batch part %d: %w", i+1, err)
		}
		status := response.status
		if status == 0 {
			status = http.StatusOK
		}
		var part bytes.Buffer
		fmt.Fprintf(&part, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		if err := response.header.Write(&part); err != nil {
			return nil, "", fmt.Errorf("batch part %d header: %w", i+1, err)
		}
		part.WriteString("\r\n")
		part.Write(response.body.Bytes())
		if _, err := partWriter.Write(part.Bytes()); err != nil {
			return nil, "", fmt.Errorf("batch part %d: %w", i+1, err)
		}
	}
	if err := writer.Close(); err != nil {
		return nil, "", fmt.Errorf("batch body: %w", err)
	}
	return body.Bytes(), "multipart/mixed; boundary=" + writer.Boundary(), nil
}

// ShuffleBatchResponses makes batch responses come back in an order other
// than the requests' whenever a batch has two parts or more. Google's guide
// warns that calls may run in any order, and a client must match responses
// by Content-ID; turning this on proves that it does.
func (s *API) ShuffleBatchResponses(on bool) {
	s.shuffleBatches.Store(on)
}

// shuffle reorders parts and their responses alike, never leaving two or
// more in their original order.
func shuffle(parts []batchPart, responses []*responseBuffer) {
	swap := func(i, j int) {
		parts[i], parts[j] = parts[j], parts[i]
		responses[i], responses[j] = responses[j], responses[i]
	}
	// Reordering needs no cryptographic randomness.
	rand.Shuffle(len(parts), swap)
	moved := false
	for i, part := range parts {
		moved = moved || part.index != i
	}
	if !moved && len(parts) > 1 {
		swap(0, 1)
	}
}

// responseContentID maps a request Content-ID to Google's response one:
// "<item1>" becomes "<response-item1>" and "item1" becomes "response-item1".
func responseContentID(id string) string {
	if inner, ok := strings.CutPrefix(id, "<"); ok {
		if inner, ok := strings.CutSuffix(inner, ">"); ok {
			return "<response-" + inner + ">"
		}
	}
	return "response-" + id
}
