package gmail

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hostileGmail answers chosen Gmail calls with scripted bytes and passes
// every other request to the sandbox. It is for what the sandbox never
// sends but Google might, or an attacker-controlled proxy could: arbitrary
// bodies and headers, an answer about another message, a call that never
// answers. It also records the queries of the list calls and the batch
// requests it sees.
type hostileGmail struct {
	t       *testing.T
	sandbox *sandboxGmail
	server  *httptest.Server

	mu sync.Mutex
	// scripts answer "profile", "list", "batch" or "message <id>" (the
	// part of a batch asking for message id) in order, before the sandbox
	// does.
	scripts     map[string][]scriptedResponse
	listQueries []url.Values
	batches     []recordedBatch
	// gate, if set, holds batch requests before they reach the sandbox.
	gate *concurrencyGate

	inFlight, maxInFlight, batchCalls atomic.Int32
	scripted                          atomic.Int32 // scripted answers sent
}

func newHostileGmail(t *testing.T) *hostileGmail {
	t.Helper()
	h := &hostileGmail{t: t, sandbox: newSandboxGmail(t), scripts: map[string][]scriptedResponse{}}
	h.server = httptest.NewServer(h)
	t.Cleanup(h.server.Close)
	return h
}

// script queues answers for key.
func (h *hostileGmail) script(key string, responses ...scriptedResponse) *hostileGmail {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.scripts[key] = append(h.scripts[key], responses...)
	return h
}

func (h *hostileGmail) recordedBatches() []recordedBatch {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.batches)
}

func (h *hostileGmail) recordedListQueries() []url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.listQueries)
}

// calls is the number of Gmail calls served, scripted or by the sandbox.
func (h *hostileGmail) calls() int64 {
	return int64(h.scripted.Load()) + h.sandbox.Stats().GmailCalls
}

func (h *hostileGmail) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	current := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	for seen := h.maxInFlight.Load(); current > seen && !h.maxInFlight.CompareAndSwap(seen, current); seen = h.maxInFlight.Load() {
	}
	var key string
	switch {
	case r.Method == http.MethodGet && r.URL.Path == profilePath:
		key = "profile"
	case r.Method == http.MethodGet && r.URL.Path == messagesPath:
		key = "list"
	case r.Method == http.MethodPost && r.URL.Path == batchPath:
		key = "batch"
	}
	if h.gate != nil && key == "batch" {
		h.gate.enter(r.Context())
		defer h.gate.exit()
	}
	var batch recordedBatch
	if key == "batch" {
		h.batchCalls.Add(1)
		batch = parseBatchRequest(h.t, r)
		h.mu.Lock()
		h.batches = append(h.batches, batch)
		h.mu.Unlock()
	}
	if key == "list" {
		h.mu.Lock()
		h.listQueries = append(h.listQueries, r.URL.Query())
		h.mu.Unlock()
	}
	if response, ok := h.next(key); ok {
		h.scripted.Add(1)
		response.serve(w, r)
		return
	}
	if key == "batch" && h.answersParts() {
		h.serveBatch(w, r, batch)
		return
	}
	h.sandbox.ServeHTTP(w, r)
}

// next pops the next scripted answer for key.
func (h *hostileGmail) next(key string) (scriptedResponse, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	queue := h.scripts[key]
	if len(queue) == 0 {
		return scriptedResponse{}, false
	}
	h.scripts[key] = queue[1:]
	return queue[0], true
}

// answersParts reports whether h must answer a batch itself: some part has
// a scripted answer.
func (h *hostileGmail) answersParts() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for key, queue := range h.scripts {
		if strings.HasPrefix(key, "message ") && len(queue) > 0 {
			return true
		}
	}
	return false
}

// serveBatch answers batch part by part: a scripted answer if there is one,
// else the sandbox's answer to the part alone.
func (h *hostileGmail) serveBatch(w http.ResponseWriter, r *http.Request, batch recordedBatch) {
	answers := make([]scriptedResponse, len(batch.requests))
	for i, inner := range batch.requests {
		if response, ok := h.next("message " + strings.TrimPrefix(inner.URL.Path, messagesPath+"/")); ok {
			answers[i] = response
			continue
		}
		single := httptest.NewRequestWithContext(r.Context(), inner.Method, inner.RequestURI, nil)
		single.Header.Set("Authorization", r.Header.Get("Authorization"))
		recorder := httptest.NewRecorder()
		h.sandbox.ServeHTTP(recorder, single)
		answers[i] = scriptedResponse{status: recorder.Code, header: recorder.Header(), body: recorder.Body.String()}
	}
	writer := multipart.NewWriter(w)
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+writer.Boundary())
	w.WriteHeader(http.StatusOK)
	for i, answer := range answers {
		part, err := writer.CreatePart(textproto.MIMEHeader{
			"Content-Type": {"application/http"},
			"Content-ID":   {"response-" + strings.Trim(batch.contentIDs[i], "<>")},
		})
		if err != nil {
			return // the client stopped reading, as it does past MaxResponseBytes
		}
		io.WriteString(part, httpResponseText(answer))
	}
	writer.Close()
}

// serve writes response, or holds r until its client gives up.
func (response scriptedResponse) serve(w http.ResponseWriter, r *http.Request) {
	if response.block {
		<-r.Context().Done()
		return
	}
	for name, values := range response.header {
		w.Header()[name] = values
	}
	w.WriteHeader(response.status)
	io.WriteString(w, response.body)
}

// client returns a Client of the sandbox's first seeded account that talks
// to h, built by newTestService.
func (h *hostileGmail) client(t *testing.T, cfg Config) (*Client, *sleepRecorder) {
	t.Helper()
	svc, sleeper := newTestService(t, h.server, cfg)
	account := h.sandbox.account(t, 0, 1)
	return svc.Client(authorizedClient(h.server, h.sandbox.IssueToken(account).AccessToken), account), sleeper
}

// scriptMessage makes h list msg as the only unread message and answer the
// batch part asking for it with it.
func (h *hostileGmail) scriptMessage(msg scriptedMessage) *hostileGmail {
	list, err := json.Marshal(map[string]any{
		"messages":           []map[string]string{{"id": msg.ID, "threadId": msg.ThreadID}},
		"resultSizeEstimate": 1,
	})
	if err != nil {
		panic(err)
	}
	h.script("list", jsonResponse(string(list)))
	return h.script("message "+msg.ID, jsonResponse(msg.metadataJSON()))
}

// recordedBatch is what the client sent in one batch request.
type recordedBatch struct {
	contentIDs        []string
	requestLines      []string
	partAuthorization bool
	requests          []*http.Request
}

// parseBatchRequest reads the batch request r, checking its encoding on the
// way, and leaves r's body to be read again.
func parseBatchRequest(t *testing.T, r *http.Request) recordedBatch {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("batch request: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var record recordedBatch
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/mixed" {
		t.Errorf("batch Content-Type = %q; want multipart/mixed with a boundary", r.Header.Get("Content-Type"))
		return record
	}
	reader := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return record
		}
		if err != nil {
			t.Errorf("batch request: %v", err)
			return record
		}
		if got := part.Header.Get("Content-Type"); got != "application/http" {
			t.Errorf("batch part Content-Type = %q; want application/http", got)
		}
		contentID := part.Header.Get("Content-ID")
		inner, err := http.ReadRequest(bufio.NewReader(part))
		if err != nil {
			t.Errorf("batch part %s: %v", contentID, err)
			continue
		}
		record.contentIDs = append(record.contentIDs, contentID)
		record.requestLines = append(record.requestLines, inner.Method+" "+inner.RequestURI+" "+inner.Proto)
		record.partAuthorization = record.partAuthorization || inner.Header.Get("Authorization") != ""
		record.requests = append(record.requests, inner)
	}
}

// scriptedMessage is a message to script, with whatever headers a test needs.
type scriptedMessage struct {
	ID, ThreadID string
	Labels       []string
	Snippet      string // HTML-escaped, as Gmail sends it
	InternalDate int64  // milliseconds since the epoch
	Headers      []Header
}

// scriptedResponse is a scripted answer.
type scriptedResponse struct {
	status  int
	header  http.Header
	body    string
	block   bool   // hold the request until the client gives up on it
	rawPart string // inside a batch: this text instead of an HTTP response
}

func googleError(status int, reason, message string) scriptedResponse {
	body, err := json.Marshal(map[string]any{"error": map[string]any{
		"code":    status,
		"message": message,
		"errors":  []any{map[string]any{"message": message, "domain": "global", "reason": reason}},
		"status":  "SCRIPTED",
	}})
	if err != nil {
		panic(err)
	}
	return scriptedResponse{status: status, header: http.Header{"Content-Type": {"application/json; charset=UTF-8"}}, body: string(body)}
}

func (r scriptedResponse) withHeader(name, value string) scriptedResponse {
	r.header = r.header.Clone()
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set(name, value)
	return r
}

func jsonResponse(body string) scriptedResponse {
	return scriptedResponse{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json; charset=UTF-8"}}, body: body}
}

// metadataJSON renders msg as Gmail answers a messages.get with
// format=metadata for the headers Unread asks for.
func (msg scriptedMessage) metadataJSON() string {
	headers := []map[string]string{}
	for _, h := range msg.Headers {
		if slices.Contains([]string{"From", "Subject", "Date"}, h.Name) {
			headers = append(headers, map[string]string{"name": h.Name, "value": h.Value})
		}
	}
	body, err := json.Marshal(map[string]any{
		"id":           msg.ID,
		"threadId":     msg.ThreadID,
		"labelIds":     msg.Labels,
		"snippet":      msg.Snippet,
		"historyId":    "5555",
		"internalDate": strconv.FormatInt(msg.InternalDate, 10),
		"sizeEstimate": 2048,
		"payload":      map[string]any{"partId": "", "mimeType": "text/plain", "headers": headers},
	})
	if err != nil {
		panic(err)
	}
	return string(body)
}

// httpResponseText renders response as an HTTP/1.1 response, as batch
// parts carry it.
func httpResponseText(response scriptedResponse) string {
	if response.rawPart != "" {
		return response.rawPart
	}
	var text strings.Builder
	fmt.Fprintf(&text, "HTTP/1.1 %d %s\r\n", response.status, http.StatusText(response.status))
	response.header.Write(&text)
	text.WriteString("\r\n")
	text.WriteString(response.body)
	return text.String()
}

// concurrencyGate holds requests until limit of them are in flight, or all
// total expected have arrived, then releases the waiting ones together. A
// client that respects the limit thus reaches it exactly, and one that
// exceeds it shows.
type concurrencyGate struct {
	limit, total int

	mu       sync.Mutex
	inFlight int
	arrived  int
	waiting  []chan struct{}
}

func (g *concurrencyGate) enter(ctx context.Context) {
	g.mu.Lock()
	g.inFlight++
	g.arrived++
	release := make(chan struct{})
	g.waiting = append(g.waiting, release)
	if g.inFlight >= g.limit || g.arrived >= g.total {
		for _, waiting := range g.waiting {
			close(waiting)
		}
		g.waiting = nil
	}
	g.mu.Unlock()
	select {
	case <-release:
	case <-ctx.Done():
	}
}

func (g *concurrencyGate) exit() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inFlight--
}

// testMessage is an unread message with the usual headers.
func testMessage(n int) scriptedMessage {
	return scriptedMessage{
		ID:           fmt.Sprintf("18c%013x", n),
		ThreadID:     fmt.Sprintf("18b%013x", n),
		Labels:       []string{"INBOX", "UNREAD"},
		Snippet:      fmt.Sprintf("Message %d: it&#39;s &lt;b&gt;here&lt;/b&gt;", n),
		InternalDate: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute).UnixMilli(),
		Headers: []Header{
			{Name: "From", Value: fmt.Sprintf("Sender %d <sender%d@example.com>", n, n)},
			{Name: "To", Value: "a@example.com"},
			{Name: "Subject", Value: fmt.Sprintf("Subject %d", n)},
			{Name: "Date", Value: "Fri, 1 Mar 2024 13:00:00 +0100"},
		},
	}
}
