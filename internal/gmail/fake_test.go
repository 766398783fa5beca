package gmail

import (
	"bufio"
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

// This file is a fake Gmail: just enough of users.getProfile,
// users.messages.list, users.messages.get and the batch endpoint, with the
// JSON and multipart shapes Gmail uses, plus scripted failures.

const (
	tokenA   = "token-a"
	tokenB   = "token-b"
	accountA = "a@example.com"
	accountB = "b@example.com"
)

// fakeMessage is a message in a fake mailbox.
type fakeMessage struct {
	ID, ThreadID string
	Labels       []string
	Snippet      string // HTML-escaped, as Gmail sends it
	InternalDate int64  // milliseconds since the epoch
	Headers      []Header
}

// fakeResponse is a scripted answer.
type fakeResponse struct {
	status  int
	header  http.Header
	body    string
	block   bool   // hold the request until the client gives up on it
	rawPart string // inside a batch: this text instead of an HTTP response
}

func googleError(status int, reason, message string) fakeResponse {
	body, err := json.Marshal(map[string]any{"error": map[string]any{
		"code":    status,
		"message": message,
		"errors":  []any{map[string]any{"message": message, "domain": "global", "reason": reason}},
		"status":  "FAKE_STATUS",
	}})
	if err != nil {
		panic(err)
	}
	return fakeResponse{status: status, header: http.Header{"Content-Type": {"application/json; charset=UTF-8"}}, body: string(body)}
}

func (r fakeResponse) withHeader(name, value string) fakeResponse {
	r.header = r.header.Clone()
	if r.header == nil {
		r.header = http.Header{}
	}
	r.header.Set(name, value)
	return r
}

func jsonResponse(body string) fakeResponse {
	return fakeResponse{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json; charset=UTF-8"}}, body: body}
}

type fakeGmail struct {
	t         *testing.T
	mailboxes map[string][]fakeMessage // by bearer token

	mu sync.Mutex
	// scripts answer "profile", "list", "batch" or "message <id>" (a get
	// or a batch part) in order, before the mailbox does.
	scripts      map[string][]fakeResponse
	reverseBatch bool // answer batch parts in reverse order
	gate         *concurrencyGate

	listCalls, getCalls, batchCalls atomic.Int32
	inFlight, maxInFlight           atomic.Int32
}

func newFakeGmail(t *testing.T, messages ...fakeMessage) *fakeGmail {
	t.Helper()
	return &fakeGmail{
		t:         t,
		mailboxes: map[string][]fakeMessage{tokenA: messages},
		scripts:   map[string][]fakeResponse{},
	}
}

// script queues answers for key.
func (f *fakeGmail) script(key string, responses ...fakeResponse) *fakeGmail {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[key] = append(f.scripts[key], responses...)
	return f
}

func (f *fakeGmail) next(key string) (fakeResponse, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	queue := f.scripts[key]
	if len(queue) == 0 {
		return fakeResponse{}, false
	}
	f.scripts[key] = queue[1:]
	return queue[0], true
}

// start serves f on 127.0.0.1 until the test ends.
func (f *fakeGmail) start() *httptest.Server {
	f.t.Helper()
	server := httptest.NewServer(f)
	f.t.Cleanup(server.Close)
	return server
}

func (f *fakeGmail) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	current := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for seen := f.maxInFlight.Load(); current > seen && !f.maxInFlight.CompareAndSwap(seen, current); seen = f.maxInFlight.Load() {
	}

	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	mailbox, ok := f.mailboxes[token]
	if !ok {
		f.write(w, r, googleError(http.StatusUnauthorized, "authError", "Invalid Credentials"))
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == profilePath:
		f.serveScriptedOr(w, r, "profile", func() fakeResponse {
			return jsonResponse(`{"emailAddress":"a@example.com","messagesTotal":42,"threadsTotal":40,"historyId":"9876"}`)
		})
	case r.Method == http.MethodGet && r.URL.Path == messagesPath:
		f.listCalls.Add(1)
		f.serveScriptedOr(w, r, "list", func() fakeResponse { return listResponse(mailbox, r.URL.Query()) })
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, messagesPath+"/"):
		f.getCalls.Add(1)
		if f.gate != nil {
			f.gate.enter(r.Context())
			defer f.gate.exit()
		}
		f.write(w, r, f.answerMessage(mailbox, r))
	case r.Method == http.MethodPost && r.URL.Path == batchPath:
		f.batchCalls.Add(1)
		if f.gate != nil {
			f.gate.enter(r.Context())
			defer f.gate.exit()
		}
		f.serveBatch(w, r, mailbox)
	default:
		f.write(w, r, googleError(http.StatusNotFound, "notFound", "no such endpoint"))
	}
}

func (f *fakeGmail) serveScriptedOr(w http.ResponseWriter, r *http.Request, key string, normal func() fakeResponse) {
	if response, ok := f.next(key); ok {
		f.write(w, r, response)
		return
	}
	f.write(w, r, normal())
}

func (f *fakeGmail) write(w http.ResponseWriter, r *http.Request, response fakeResponse) {
	response.serve(w, r)
}

func listResponse(mailbox []fakeMessage, query url.Values) fakeResponse {
	var matching []fakeMessage
	for _, msg := range mailbox {
		if query.Get("q") == "is:unread" && !slices.Contains(msg.Labels, "UNREAD") {
			continue
		}
		if !containsAll(msg.Labels, query["labelIds"]) {
			continue
		}
		matching = append(matching, msg)
	}
	offset, _ := strconv.Atoi(query.Get("pageToken"))
	pageSize := 100
	if maxResults, err := strconv.Atoi(query.Get("maxResults")); err == nil {
		pageSize = maxResults
	}
	type ref struct {
		ID       string `json:"id"`
		ThreadID string `json:"threadId"`
	}
	var page struct {
		Messages           []ref  `json:"messages,omitempty"` // Gmail omits it when nothing matches
		NextPageToken      string `json:"nextPageToken,omitempty"`
		ResultSizeEstimate int    `json:"resultSizeEstimate"`
	}
	page.ResultSizeEstimate = len(matching)
	end := min(offset+pageSize, len(matching))
	for _, msg := range matching[min(offset, end):end] {
		page.Messages = append(page.Messages, ref{ID: msg.ID, ThreadID: msg.ThreadID})
	}
	if end < len(matching) {
		page.NextPageToken = strconv.Itoa(end)
	}
	body, err := json.Marshal(page)
	if err != nil {
		panic(err)
	}
	return jsonResponse(string(body))
}

func containsAll(have, want []string) bool {
	for _, label := range want {
		if !slices.Contains(have, label) {
			return false
		}
	}
	return true
}

// answerMessage answers a messages.get request, alone or inside a batch.
func (f *fakeGmail) answerMessage(mailbox []fakeMessage, r *http.Request) fakeResponse {
	id := strings.TrimPrefix(r.URL.Path, messagesPath+"/")
	if response, ok := f.next("message " + id); ok {
		return response
	}
	index := slices.IndexFunc(mailbox, func(msg fakeMessage) bool { return msg.ID == id })
	if index < 0 {
		return googleError(http.StatusNotFound, "notFound", "Requested entity was not found.")
	}
	return jsonResponse(mailbox[index].json(r.URL.Query()))
}

// json renders msg as a users.messages resource in the requested format.
func (msg fakeMessage) json(query url.Values) string {
	resource := map[string]any{
		"id":           msg.ID,
		"threadId":     msg.ThreadID,
		"labelIds":     msg.Labels,
		"snippet":      msg.Snippet,
		"historyId":    "5555",
		"internalDate": strconv.FormatInt(msg.InternalDate, 10),
		"sizeEstimate": 2048,
	}
	switch format := query.Get("format"); format {
	case "minimal":
	case "metadata", "full", "":
		headers := []map[string]string{}
		for _, h := range msg.Headers {
			wanted := query["metadataHeaders"]
			if format == "metadata" && !slices.ContainsFunc(wanted, func(name string) bool { return strings.EqualFold(name, h.Name) }) {
				continue
			}
			headers = append(headers, map[string]string{"name": h.Name, "value": h.Value})
		}
		resource["payload"] = map[string]any{"partId": "", "mimeType": "text/plain", "headers": headers}
	default:
		panic("fake Gmail: unknown format " + format)
	}
	body, err := json.Marshal(resource)
	if err != nil {
		panic(err)
	}
	return string(body)
}

// serveBatch answers a batch request, checking its encoding on the way.
func (f *fakeGmail) serveBatch(w http.ResponseWriter, r *http.Request, mailbox []fakeMessage) {
	if response, ok := f.next("batch"); ok {
		f.write(w, r, response)
		return
	}
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/mixed" {
		f.t.Errorf("batch Content-Type = %q; want multipart/mixed with a boundary", r.Header.Get("Content-Type"))
		f.write(w, r, googleError(http.StatusBadRequest, "badRequest", "not multipart/mixed"))
		return
	}
	type answer struct {
		contentID string
		response  fakeResponse
	}
	var answers []answer
	reader := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.t.Errorf("batch request: %v", err)
			f.write(w, r, googleError(http.StatusBadRequest, "badRequest", "bad multipart"))
			return
		}
		if got := part.Header.Get("Content-Type"); got != "application/http" {
			f.t.Errorf("batch part Content-Type = %q; want application/http", got)
		}
		contentID := part.Header.Get("Content-ID")
		inner, err := http.ReadRequest(bufio.NewReader(part))
		if err != nil {
			f.t.Errorf("batch part %s: %v", contentID, err)
			continue
		}
		answers = append(answers, answer{contentID: contentID, response: f.answerMessage(mailbox, inner)})
	}
	f.mu.Lock()
	reverse := f.reverseBatch
	f.mu.Unlock()
	if reverse {
		slices.Reverse(answers)
	}

	writer := multipart.NewWriter(w)
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+writer.Boundary())
	w.WriteHeader(http.StatusOK)
	for _, a := range answers {
		part, err := writer.CreatePart(textproto.MIMEHeader{
			"Content-Type": {"application/http"},
			"Content-ID":   {"response-" + strings.Trim(a.contentID, "<>")},
		})
		if err != nil {
			f.t.Errorf("batch response: %v", err)
			return
		}
		io.WriteString(part, httpResponseText(a.response))
	}
	writer.Close()
}

// httpResponseText renders response as an HTTP/1.1 response, as batch
// parts carry it.
func httpResponseText(response fakeResponse) string {
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

// bearerTransport stands in for the oauth2 transport.
type bearerTransport struct {
	token string
	base  http.RoundTripper
}

func (t *bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// sleepRecorder stands in for Config.Sleep: it records the waits asked for
// and returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waits)
}

// maxJitter makes full jitter deterministic: always the longest wait.
func maxJitter(limit time.Duration) time.Duration { return limit }

// newTestService returns a Service for server with cfg's non-zero fields,
// waits recorded instead of slept and deterministic jitter.
func newTestService(t *testing.T, server *httptest.Server, cfg Config) (*Service, *sleepRecorder) {
	t.Helper()
	sleeper := &sleepRecorder{}
	cfg.BaseURL = server.URL
	if cfg.Sleep == nil {
		cfg.Sleep = sleeper.sleep
	}
	if cfg.Jitter == nil {
		cfg.Jitter = maxJitter
	}
	svc, err := NewService(cfg)
	if err != nil {
		t.Fatalf("NewService() err = %v; want nil", err)
	}
	return svc, sleeper
}

// newTestClient returns a Client of account A on server.
func newTestClient(t *testing.T, server *httptest.Server, cfg Config) (*Client, *sleepRecorder) {
	t.Helper()
	svc, sleeper := newTestService(t, server, cfg)
	return svc.Client(authorizedClient(server, tokenA), accountA), sleeper
}

func authorizedClient(server *httptest.Server, token string) *http.Client {
	return &http.Client{Transport: &bearerTransport{token: token, base: server.Client().Transport}}
}

// testMessage is an unread message with the usual headers.
func testMessage(n int) fakeMessage {
	return fakeMessage{
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

func testMessages(n int) []fakeMessage {
	messages := make([]fakeMessage, n)
	for i := range messages {
		messages[i] = testMessage(i + 1)
	}
	return messages
}
