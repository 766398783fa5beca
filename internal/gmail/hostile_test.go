package gmail

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
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
	// scripts answer "profile", "list", "batch" or "message <id>" (a
	// messages.get) in order, before the sandbox does.
	scripts     map[string][]fakeResponse
	listQueries []url.Values
	batches     []recordedBatch
	// gate, if set, holds metadata calls (gets and batches) before they
	// reach the sandbox.
	gate *concurrencyGate

	inFlight, maxInFlight atomic.Int32
	scripted              atomic.Int32 // scripted answers sent
}

func newHostileGmail(t *testing.T) *hostileGmail {
	t.Helper()
	h := &hostileGmail{t: t, sandbox: newSandboxGmail(t), scripts: map[string][]fakeResponse{}}
	h.server = httptest.NewServer(h)
	t.Cleanup(h.server.Close)
	return h
}

// script queues answers for key.
func (h *hostileGmail) script(key string, responses ...fakeResponse) *hostileGmail {
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
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, messagesPath+"/"):
		key = "message " + strings.TrimPrefix(r.URL.Path, messagesPath+"/")
	case r.Method == http.MethodPost && r.URL.Path == batchPath:
		key = "batch"
	}
	if h.gate != nil && (key == "batch" || strings.HasPrefix(key, "message ")) {
		h.gate.enter(r.Context())
		defer h.gate.exit()
	}
	if key == "batch" {
		batch := parseBatchRequest(h.t, r)
		h.mu.Lock()
		h.batches = append(h.batches, batch)
		h.mu.Unlock()
	}
	h.mu.Lock()
	if key == "list" {
		h.listQueries = append(h.listQueries, r.URL.Query())
	}
	queue := h.scripts[key]
	if len(queue) > 0 {
		h.scripts[key] = queue[1:]
	}
	h.mu.Unlock()
	if len(queue) == 0 {
		h.sandbox.ServeHTTP(w, r)
		return
	}
	h.scripted.Add(1)
	queue[0].serve(w, r)
}

// serve writes response, or holds r until its client gives up.
func (response fakeResponse) serve(w http.ResponseWriter, r *http.Request) {
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

// scriptMessage makes h list msg as the only unread message and answer its
// messages.get with it, for a Client with the Concurrent strategy.
func (h *hostileGmail) scriptMessage(msg fakeMessage) *hostileGmail {
	h.script("list", listResponse([]fakeMessage{msg}, url.Values{}))
	return h.script("message "+msg.ID, jsonResponse(msg.json(url.Values{"format": {"metadata"}, "metadataHeaders": {"From", "Subject", "Date"}})))
}

// recordedBatch is what the client sent in one batch request.
type recordedBatch struct {
	contentIDs        []string
	requestLines      []string
	partAuthorization bool
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
	}
}
