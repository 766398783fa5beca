package sandbox_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

// batchPart is one request inside a batch, written as Google's docs show.
type batchPart struct {
	contentID   string
	contentType string // default application/http
	request     string // the HTTP request, without the trailing blank line
}

func getPart(contentID, path string) batchPart {
	return batchPart{contentID: contentID, request: "GET " + path + " HTTP/1.1"}
}

// partResponse is one response from a batch.
type partResponse struct {
	contentID   string
	contentType string
	status      int
	header      http.Header
	body        []byte
}

// batchBody encodes parts as a multipart/mixed batch body.
func batchBody(t *testing.T, parts []batchPart) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	writer := multipart.NewWriter(&body)
	for _, part := range parts {
		header := textproto.MIMEHeader{"Content-Type": {"application/http"}}
		if part.contentType != "" {
			header.Set("Content-Type", part.contentType)
		}
		if part.contentID != "" {
			header.Set("Content-ID", part.contentID)
		}
		w, err := writer.CreatePart(header)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "%s\r\n\r\n", part.request)
	}
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	return &body, "multipart/mixed; boundary=" + writer.Boundary()
}

// batchRequest builds a batch request with accessToken, if any, in the outer
// Authorization header.
func (f *fixture) batchRequest(t *testing.T, accessToken string, parts []batchPart) *http.Request {
	t.Helper()
	body, contentType := batchBody(t, parts)
	req, err := http.NewRequest(http.MethodPost, f.url+sandbox.GmailBatchPath, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return req
}

// batch sends parts as a batch and parses the multipart answer.
func (f *fixture) batch(t *testing.T, accessToken string, parts []batchPart) (response, []partResponse) {
	t.Helper()
	resp := f.do(t, f.batchRequest(t, accessToken, parts))
	if resp.status != http.StatusOK {
		return resp, nil
	}
	return resp, parseBatchResponse(t, resp)
}

func parseBatchResponse(t *testing.T, resp response) []partResponse {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(resp.header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/mixed" || !strings.HasPrefix(params["boundary"], "batch_") {
		t.Fatalf("batch Content-Type = %q; want multipart/mixed; boundary=batch_…", resp.header.Get("Content-Type"))
	}
	reader := multipart.NewReader(bytes.NewReader(resp.body), params["boundary"])
	var parts []partResponse
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return parts
		}
		if err != nil {
			t.Fatalf("read batch response: %v", err)
		}
		inner, err := http.ReadResponse(bufio.NewReader(part), nil)
		if err != nil {
			t.Fatalf("read part response: %v", err)
		}
		body, err := io.ReadAll(inner.Body)
		if err != nil {
			t.Fatalf("read part body: %v", err)
		}
		parts = append(parts, partResponse{
			contentID:   part.Header.Get("Content-ID"),
			contentType: part.Header.Get("Content-Type"),
			status:      inner.StatusCode,
			header:      inner.Header,
			body:        body,
		})
	}
}

func TestBatchAnswersEveryPartInOrder(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	ids := f.listAll(t, token, "q=is:unread&maxResults=20")[:20]
	var parts []batchPart
	for i, id := range ids {
		contentID := fmt.Sprintf("<item%d>", i+1)
		if i%2 == 1 {
			contentID = fmt.Sprintf("plain-%d", i+1)
		}
		parts = append(parts, getPart(contentID, "/gmail/v1/users/me/messages/"+id+"?format=metadata&metadataHeaders=From&metadataHeaders=Subject"))
	}
	f.sandbox.ResetStats()
	_, responses := f.batch(t, token, parts)
	if len(responses) != len(parts) {
		t.Fatalf("batch answered %d parts; want %d", len(responses), len(parts))
	}
	for i, got := range responses {
		wantID := fmt.Sprintf("<response-item%d>", i+1)
		if i%2 == 1 {
			wantID = fmt.Sprintf("response-plain-%d", i+1)
		}
		if got.contentID != wantID || got.contentType != "application/http" {
			t.Errorf("part %d: Content-ID %q, Content-Type %q; want %q, application/http", i, got.contentID, got.contentType, wantID)
		}
		if got.status != http.StatusOK || got.header.Get("Content-Type") != "application/json; charset=UTF-8" {
			t.Errorf("part %d: HTTP %d %q; want 200 application/json; charset=UTF-8", i, got.status, got.header.Get("Content-Type"))
			continue
		}
		var m messageResource
		if err := json.Unmarshal(got.body, &m); err != nil {
			t.Fatalf("part %d body: %v", i, err)
		}
		// One seeded message has no Subject, so only From is certain.
		if _, hasFrom := m.header("From"); m.ID != ids[i] || !hasFrom || len(m.Payload.Headers) > 2 {
			t.Errorf("part %d = message %s with headers %+v; want %s with From and Subject only", i, m.ID, m.Payload.Headers, ids[i])
		}
	}
	if stats := f.sandbox.Stats(); stats.GmailCalls != 1 || stats.BatchParts != int64(len(parts)) {
		t.Errorf("Stats() = %+v; want 1 Gmail call and %d batch parts", stats, len(parts))
	}
}

func TestBatchPartErrors(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	alexToken := f.sandbox.IssueToken(alex).AccessToken
	alexID := f.listAll(t, alexToken, "")[0]
	hanakoID := f.listAll(t, token, "")[0]
	tests := []struct {
		name       string
		part       batchPart
		wantStatus int
	}{
		{"message", getPart("<1>", "/gmail/v1/users/me/messages/"+hanakoID), http.StatusOK},
		{"list", getPart("<2>", "/gmail/v1/users/me/messages?q=is:unread&maxResults=5"), http.StatusOK},
		{"unknown message", getPart("<3>", "/gmail/v1/users/me/messages/18c0ffee00000001"), http.StatusNotFound},
		{"another person's message", getPart("<4>", "/gmail/v1/users/me/messages/"+alexID), http.StatusNotFound},
		{"a write method with a read-only token", batchPart{contentID: "<5>", request: "POST /gmail/v1/users/me/messages/" + hanakoID + "/trash HTTP/1.1"}, http.StatusForbidden},
		{"not a Gmail path", getPart("<6>", "/drive/v3/files"), http.StatusBadRequest},
		{"own Authorization", batchPart{contentID: "<7>",
			request: "GET /gmail/v1/users/me/messages/" + alexID + " HTTP/1.1\r\nAuthorization: Bearer " + alexToken}, http.StatusOK},
		{"own bad Authorization", batchPart{contentID: "<8>",
			request: "GET /gmail/v1/users/me/profile HTTP/1.1\r\nAuthorization: Bearer ya29.sandbox.made-up"}, http.StatusUnauthorized},
		{"no HTTP version", batchPart{contentID: "<9>", request: "GET /gmail/v1/users/me/profile"}, http.StatusOK},
		{"garbage request line", batchPart{contentID: "<10>", request: "this is not HTTP at all"}, http.StatusBadRequest},
		{"bad parameter", getPart("<11>", "/gmail/v1/users/me/messages?maxResults=0"), http.StatusBadRequest},
	}
	var parts []batchPart
	for _, tt := range tests {
		parts = append(parts, tt.part)
	}
	_, responses := f.batch(t, token, parts)
	if len(responses) != len(tests) {
		t.Fatalf("batch answered %d parts; want %d", len(responses), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := responses[i]
			if got.status != tt.wantStatus {
				t.Errorf("part %s = %d; want %d\n%s", got.contentID, got.status, tt.wantStatus, got.body)
			}
			if tt.wantStatus != http.StatusOK {
				var body googleError
				if err := json.Unmarshal(got.body, &body); err != nil || body.Error.Code != tt.wantStatus {
					t.Errorf("part body = %s; want Google's error JSON with code %d", got.body, tt.wantStatus)
				}
			}
		})
	}
}

func TestBatchUsesTheOuterAuthorization(t *testing.T) {
	f := newFixture(t)
	_, responses := f.batch(t, "", []batchPart{getPart("<1>", "/gmail/v1/users/me/profile")})
	if len(responses) != 1 || responses[0].status != http.StatusUnauthorized {
		t.Fatalf("unauthenticated batch part = %+v; want one 401", responses)
	}
	_, responses = f.batch(t, f.sandbox.IssueToken(alex).AccessToken, []batchPart{getPart("<1>", "/gmail/v1/users/me/profile")})
	if len(responses) != 1 || !bytes.Contains(responses[0].body, []byte(alex)) {
		t.Fatalf("batch with Alex's outer token = %+v; want Alex's profile", responses)
	}
}

func TestBatchRefusals(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	profile := getPart("", "/gmail/v1/users/me/profile")
	many := func(n int) []batchPart {
		parts := make([]batchPart, n)
		for i := range parts {
			parts[i] = profile
		}
		return parts
	}
	tests := []struct {
		name       string
		parts      []batchPart
		wantStatus int
	}{
		{"100 parts", many(100), http.StatusOK},
		{"101 parts", many(101), http.StatusBadRequest},
		{"no parts", nil, http.StatusBadRequest},
		{"part that is not application/http", []batchPart{{contentType: "text/plain", request: profile.request}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := f.batch(t, token, tt.parts)
			if tt.wantStatus == http.StatusOK {
				wantStatus(t, resp, http.StatusOK)
				return
			}
			wantGoogleError(t, "POST batch", resp, tt.wantStatus, "INVALID_ARGUMENT", "invalidArgument")
		})
	}
	t.Run("JSON body", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, f.url+sandbox.GmailBatchPath, strings.NewReader(`[]`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		wantGoogleError(t, "POST batch", f.do(t, req), http.StatusBadRequest, "INVALID_ARGUMENT", "invalidArgument")
	})
	t.Run("GET", func(t *testing.T) {
		if resp := f.get(t, sandbox.GmailBatchPath); resp.status != http.StatusMethodNotAllowed {
			t.Errorf("GET batch = %d; want 405", resp.status)
		}
	})
}

func TestBatchPartsMeetTheLatency(t *testing.T) {
	const latency = 50 * time.Millisecond
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	ids := f.listAll(t, token, "maxResults=50")[:50]
	var parts []batchPart
	for i, id := range ids {
		parts = append(parts, getPart(fmt.Sprintf("<%d>", i), "/gmail/v1/users/me/messages/"+id+"?format=minimal"))
	}
	f.sandbox.SetLatency(latency)
	start := time.Now()
	_, responses := f.batch(t, token, parts)
	elapsed := time.Since(start)
	if len(responses) != len(parts) {
		t.Fatalf("batch answered %d parts; want %d", len(responses), len(parts))
	}
	// That the parts run at once, not one after another, is
	// TestBatchPartsRunConcurrently's (batch_internal_test.go), without a clock.
	if elapsed < latency {
		t.Errorf("a batch with %v latency took only %v; want the latency applied", latency, elapsed)
	}
}

// guideBatch is the example request of Google's batch guide
// (https://developers.google.com/gmail/api/guides/batch), byte for byte: LF
// line ends, no HTTP version on the request lines, no blank line after the
// headers of a body-less request. Only the Farm API's paths are Gmail's.
const guideBatch = `--batch_foobarbaz
Content-Type: application/http
Content-ID: <item1:12930812@barnyard.example.com>

GET /gmail/v1/users/me/messages/%s

--batch_foobarbaz
Content-Type: application/http
Content-ID: <item2:12930812@barnyard.example.com>

GET /gmail/v1/users/me/profile
If-None-Match: "etag/profile"

--batch_foobarbaz
Content-Type: application/http
Content-ID: <item3:12930812@barnyard.example.com>

GET /gmail/v1/users/me/messages?maxResults=2
If-None-Match: "etag/messages"

--batch_foobarbaz--`

func (f *fixture) rawBatch(t *testing.T, accessToken, query, body string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url+sandbox.GmailBatchPath+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "multipart/mixed; boundary=batch_foobarbaz")
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return f.do(t, req)
}

func TestBatchAcceptsTheGuidesLayout(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	id := f.listAll(t, token, "maxResults=1")[0]
	tests := []struct {
		name string
		body string
	}{
		{name: "as the guide shows it", body: fmt.Sprintf(guideBatch, id)},
		{name: "with CRLF line ends", body: strings.ReplaceAll(fmt.Sprintf(guideBatch, id), "\n", "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.rawBatch(t, token, "", tt.body)
			wantStatus(t, resp, http.StatusOK)
			parts := parseBatchResponse(t, resp)
			if len(parts) != 3 {
				t.Fatalf("batch answered %d parts; want 3", len(parts))
			}
			for i, part := range parts {
				wantID := fmt.Sprintf("<response-item%d:12930812@barnyard.example.com>", i+1)
				if part.contentID != wantID || part.status != http.StatusOK {
					t.Errorf("part %d = %q HTTP %d; want %q HTTP 200\n%s", i+1, part.contentID, part.status, wantID, part.body)
				}
			}
			if !bytes.Contains(parts[0].body, []byte(`"id": "`+id+`"`)) || !bytes.Contains(parts[1].body, []byte(hanako)) {
				t.Errorf("parts do not answer their requests:\n%s\n%s", parts[0].body, parts[1].body)
			}
		})
	}
}

// TestBatchFullURLs: the batch guide wants the path alone in a part's
// request line; Google takes a full URL too, which strict mode refuses.
func TestBatchFullURLs(t *testing.T) {
	strict, googleLikeSandbox := newFixture(t), newFixture(t, googleLike)
	tests := []struct {
		name, target           string
		wantStatus, wantGoogle int
	}{
		{name: "path", target: "/gmail/v1/users/me/profile", wantStatus: http.StatusOK, wantGoogle: http.StatusOK},
		{name: "full URL", target: "https://gmail.googleapis.com/gmail/v1/users/me/profile", wantStatus: http.StatusBadRequest, wantGoogle: http.StatusOK},
		{name: "the sandbox's own URL", target: strict.url + "/gmail/v1/users/me/profile", wantStatus: http.StatusBadRequest, wantGoogle: http.StatusOK},
		{name: "scheme-relative URL", target: "//gmail.googleapis.com/gmail/v1/users/me/profile", wantStatus: http.StatusBadRequest, wantGoogle: http.StatusBadRequest},
		{name: "HTTP version that is not HTTP/1", target: "/gmail/v1/users/me/profile HTTP/2", wantStatus: http.StatusBadRequest, wantGoogle: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/Google-like", func(t *testing.T) {
			token := googleLikeSandbox.sandbox.IssueToken(hanako).AccessToken
			_, responses := googleLikeSandbox.batch(t, token, []batchPart{{contentID: "<1>", request: "GET " + tt.target}})
			if len(responses) != 1 || responses[0].status != tt.wantGoogle {
				t.Fatalf("batch part GET %s = %+v; want one part with HTTP %d", tt.target, responses, tt.wantGoogle)
			}
		})
		t.Run(tt.name+"/strict", func(t *testing.T) {
			f := strict
			token := f.sandbox.IssueToken(hanako).AccessToken
			_, responses := f.batch(t, token, []batchPart{{contentID: "<1>", request: "GET " + tt.target}})
			if len(responses) != 1 || responses[0].status != tt.wantStatus {
				t.Fatalf("batch part GET %s = %+v; want one part with HTTP %d", tt.target, responses, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				var body googleError
				if err := json.Unmarshal(responses[0].body, &body); err != nil || body.Error.Status != "INVALID_ARGUMENT" {
					t.Errorf("part body = %s; want Google's INVALID_ARGUMENT error", responses[0].body)
				}
			}
		})
	}
}

func TestBatchAppliesTheOuterQueryAndHeaders(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	parts := []batchPart{
		{contentID: "<1>", request: "GET /gmail/v1/users/me/profile"},
		{contentID: "<2>", request: "GET /gmail/v1/users/me/profile?prettyPrint=true"},
	}
	body, contentType := batchBody(t, parts)
	req, err := http.NewRequest(http.MethodPost, f.url+sandbox.GmailBatchPath+"?prettyPrint=false", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	responses := parseBatchResponse(t, f.do(t, req))
	if len(responses) != 2 {
		t.Fatalf("batch answered %d parts; want 2", len(responses))
	}
	if compact := responses[0].body; bytes.Contains(bytes.TrimSpace(compact), []byte("\n")) {
		t.Errorf("part without prettyPrint under an outer prettyPrint=false is indented:\n%s", compact)
	}
	if pretty := responses[1].body; !bytes.Contains(bytes.TrimSpace(pretty), []byte("\n")) {
		t.Errorf("part with its own prettyPrint=true is compact:\n%s", pretty)
	}
}

func TestShuffledBatchResponsesKeepTheirContentIDs(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	ids := f.listAll(t, token, "maxResults=5")[:5]
	var parts []batchPart
	for i, id := range ids {
		parts = append(parts, getPart(fmt.Sprintf("<item%d>", i), listPath+"/"+id+"?format=minimal"))
	}
	f.sandbox.ShuffleBatchResponses(true)
	_, responses := f.batch(t, token, parts)
	if len(responses) != len(parts) {
		t.Fatalf("batch answered %d parts; want %d", len(responses), len(parts))
	}
	inOrder := true
	for i, part := range responses {
		var n int
		if _, err := fmt.Sscanf(part.contentID, "<response-item%d>", &n); err != nil || n < 0 || n >= len(ids) {
			t.Fatalf("part %d Content-ID = %q; want <response-itemN>", i, part.contentID)
		}
		inOrder = inOrder && n == i
		var m messageResource
		if err := json.Unmarshal(part.body, &m); err != nil || m.ID != ids[n] {
			t.Errorf("part %s answers message %q; want %s", part.contentID, m.ID, ids[n])
		}
	}
	if inOrder {
		t.Errorf("ShuffleBatchResponses(true) left the responses in request order")
	}
	f.sandbox.ShuffleBatchResponses(false)
	_, responses = f.batch(t, token, parts)
	for i, part := range responses {
		if want := fmt.Sprintf("<response-item%d>", i); part.contentID != want {
			t.Errorf("after ShuffleBatchResponses(false), part %d = %q; want %q", i, part.contentID, want)
		}
	}
}
