package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
)

const (
	// maxBatchParts is Gmail's limit on requests per batch.
	maxBatchParts = 100
	// maxBatchBytes bounds a batch body; 100 GET requests need far less.
	maxBatchBytes = 4 << 20
)

// batchPart is one request of a batch, or why it could not be read.
type batchPart struct {
	contentID string
	request   *http.Request
	err       *apiError
}

// serveBatch is Gmail's batch endpoint: a multipart/mixed body of HTTP
// requests, answered by a multipart/mixed body of HTTP responses in the same
// order. Parts run concurrently, as at Google.
func (s *Server) serveBatch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		apiErr := errMethodNotAllowed(r.Method)
		apiErr.header.Set("Allow", http.MethodPost)
		writeAPIError(w, r, apiErr)
		return
	}
	s.serveWithFaults(callBatch, w, r, func(w http.ResponseWriter, r *http.Request) {
		parts, apiErr := readBatch(w, r)
		if apiErr != nil {
			writeAPIError(w, r, apiErr)
			return
		}
		responses := make([]*responseBuffer, len(parts))
		var group sync.WaitGroup
		for i, part := range parts {
			group.Go(func() { responses[i] = s.servePart(r, part) })
		}
		group.Wait()
		writeBatchResponse(w, r, parts, responses)
	})
}

// readBatch parses the multipart body of a batch request.
func readBatch(w http.ResponseWriter, r *http.Request) ([]batchPart, *apiError) {
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
		parts = append(parts, parsePart(part.Header.Get("Content-ID"), body))
	}
	if len(parts) == 0 {
		return nil, errInvalidArgument("Failed to parse batch request: the batch has no parts.")
	}
	return parts, nil
}

// parsePart reads the HTTP request inside a batch part. The HTTP version of
// the request line is optional in Google's batch format, so it is added when
// missing to satisfy net/http.
func parsePart(contentID string, body []byte) batchPart {
	body = bytes.TrimLeft(body, "\r\n")
	requestLine, rest, _ := bytes.Cut(body, []byte("\n"))
	if fields := strings.Fields(string(requestLine)); len(fields) == 2 {
		body = append([]byte(fields[0]+" "+fields[1]+" HTTP/1.1\r\n"), rest...)
	}
	request, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(body)))
	if err != nil {
		return batchPart{contentID: contentID, err: errInvalidArgument("Failed to parse the HTTP request in a batch part: " + err.Error())}
	}
	return batchPart{contentID: contentID, request: request}
}

// servePart answers one part through the Gmail routes. The outer request's
// Authorization applies unless the part carries its own.
func (s *Server) servePart(outer *http.Request, part batchPart) *responseBuffer {
	s.stats.batchParts.Add(1)
	response := newResponseBuffer()
	if part.err != nil {
		writeAPIError(response, outer, part.err)
		return response
	}
	inner := part.request.WithContext(outer.Context())
	if inner.Method != http.MethodGet {
		writeAPIError(response, inner, errInvalidArgument(fmt.Sprintf("The sandbox's Gmail API is read-only: %s is not allowed in a batch.", inner.Method)))
		return response
	}
	if !strings.HasPrefix(inner.URL.Path, "/gmail/v1/") {
		writeAPIError(response, inner, errInvalidArgument(fmt.Sprintf("Batch part path %q is not a Gmail API path; this is the Gmail batch endpoint.", inner.URL.Path)))
		return response
	}
	if inner.Header.Get("Authorization") == "" {
		inner.Header.Set("Authorization", outer.Header.Get("Authorization"))
	}
	s.gmail.ServeHTTP(response, inner)
	return response
}

// writeBatchResponse writes the parts' responses as Google does, each one an
// application/http part whose Content-ID is "response-" plus the request's.
func writeBatchResponse(w http.ResponseWriter, r *http.Request, parts []batchPart, responses []*responseBuffer) {
	body, contentType, err := encodeBatchResponse(parts, responses)
	if err != nil {
		writeAPIError(w, r, errForStatus(http.StatusInternalServerError))
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
	if err := writer.SetBoundary("batch_" + randomToken("")[:32]); err != nil {
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
