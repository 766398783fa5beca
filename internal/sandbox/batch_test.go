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
		{"POST", batchPart{contentID: "<5>", request: "POST /gmail/v1/users/me/messages/" + hanakoID + "/trash HTTP/1.1"}, http.StatusBadRequest},
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

func TestBatchPartsRunConcurrently(t *testing.T) {
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
	// Sequential parts would take 50 × latency; allow generous slack for -race.
	if elapsed >= 10*latency {
		t.Errorf("a 50-part batch with %v latency took %v; want well under %v, as parts run concurrently", latency, elapsed, 10*latency)
	}
	if elapsed < latency {
		t.Errorf("a batch with %v latency took only %v; want the latency applied", latency, elapsed)
	}
}
