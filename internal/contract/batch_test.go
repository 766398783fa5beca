package contract_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"gmailoauth/internal/gmail"
)

// batchRef is Google's batch guide,
// https://developers.google.com/gmail/api/guides/batch.
// testdata/batch-request.txt is its example request byte for byte (LF line
// ends, no HTTP version on the request lines, no blank line after the
// headers of a body-less request), with the Farm API's paths replaced by
// Gmail's; the stand-in server below answers in the layout of its example
// response.

const batchPath = "/batch/gmail/v1"

// batchPart is one part of a multipart batch body.
type batchPart struct {
	contentID string
	head      string // the request or status line
	header    http.Header
	body      []byte
}

// readBatch reads a multipart/mixed batch body, requests or responses.
func readBatch(t *testing.T, contentType string, body []byte) []batchPart {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/mixed" || params["boundary"] == "" {
		t.Fatalf("batch Content-Type = %q; want multipart/mixed with a boundary", contentType)
	}
	reader := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var parts []batchPart
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return parts
		}
		if err != nil {
			t.Fatalf("batch body: %v\n%s", err, body)
		}
		if got := part.Header.Get("Content-Type"); got != "application/http" {
			t.Errorf("batch part Content-Type = %q; want application/http", got)
		}
		lines := bufio.NewReader(part)
		head, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("batch part: %v", err)
		}
		header, err := readHeader(lines)
		if err != nil {
			t.Fatalf("batch part header: %v", err)
		}
		rest, err := io.ReadAll(lines)
		if err != nil {
			t.Fatalf("batch part body: %v", err)
		}
		parts = append(parts, batchPart{contentID: part.Header.Get("Content-ID"), head: strings.TrimSpace(head), header: header, body: rest})
	}
}

// readHeader reads header lines up to a blank line or the end.
func readHeader(lines *bufio.Reader) (http.Header, error) {
	header := http.Header{}
	for {
		line, err := lines.ReadString('\n')
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			name, value, _ := strings.Cut(line, ":")
			header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		}
		if line == "" || errors.Is(err, io.EOF) {
			return header, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// status is the status code of a response part's status line.
func (p batchPart) status() int {
	var code int
	fmt.Sscanf(p.head, "HTTP/1.1 %d", &code)
	return code
}

// postBatch sends body to the target's batch endpoint.
func (tg *target) postBatch(t *testing.T, accessToken, boundary string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, tg.gmailURL+batchPath, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "multipart/mixed; boundary="+boundary)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return do(t, req)
}

// standInGoogle answers the app's calls as Google would: the list with
// testdata/messages-list.json, the profile with profile.json (a client that
// has no account yet asks beside the list), and the batch in the layout of
// the guide's example response (LF line ends, Content-ID "<response-…>"),
// parts in reverse order, which the guide allows, each part
// message-metadata.json for the message asked, with subject(id) for its
// subject. It checks that each part asks for what the app needs.
func standInGoogle(t *testing.T, subject func(id string) string) *httptest.Server {
	t.Helper()
	metadata := golden(t, "message-metadata.json")
	return httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case messagesPath:
			writeJSON(w, http.StatusOK, golden(t, "messages-list.json"))
			return
		case "/gmail/v1/users/me/profile":
			writeJSON(w, http.StatusOK, golden(t, "profile.json"))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost || r.URL.Path != batchPath {
			t.Errorf("%s %s: want POST %s", r.Method, r.URL.Path, batchPath)
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		var answer strings.Builder
		parts := readBatch(t, r.Header.Get("Content-Type"), body)
		for _, part := range slices.Backward(parts) {
			method, target, _ := strings.Cut(part.head, " ")
			target, _, _ = strings.Cut(target, " ")
			path, query, _ := strings.Cut(target, "?")
			id, isMessage := strings.CutPrefix(path, messagesPath+"/")
			// The guide allows only the path of the URL in a part.
			if method != http.MethodGet || !isMessage || appQuery(query) != metadataQuery || !strings.HasPrefix(part.contentID, "<") {
				t.Errorf("batch part %s %q; want GET %s/{id}?%s with a Content-ID in <>", part.contentID, part.head, messagesPath, metadataQuery)
			}
			message := bytes.ReplaceAll(metadata, []byte("18c5d5f4a1b2c3d4"), []byte(id))
			message = bytes.ReplaceAll(message, []byte("Figures for Friday"), []byte(subject(id)))
			fmt.Fprintf(&answer, "--batch_foobarbaz\nContent-Type: application/http\nContent-ID: <response-%s\n\n"+
				"HTTP/1.1 200 OK\nContent-Type: application/json; charset=UTF-8\nETag: \"etag/%s\"\n\n%s\n",
				strings.TrimPrefix(part.contentID, "<"), id, message)
		}
		answer.WriteString("--batch_foobarbaz--")
		w.Header().Set("Content-Type", "multipart/mixed; boundary=batch_foobarbaz")
		io.WriteString(w, answer.String())
	})
}

func TestBatchClientMatchesResponsesByContentID(t *testing.T) {
	server := standInGoogle(t, func(id string) string { return "Subject of " + id })
	page, err := gmailClientFor(t, server.URL, nil).Unread(t.Context(), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 2 {
		t.Fatalf("Unread() has %d messages; want the list's 2", len(page.Messages))
	}
	for _, m := range page.Messages {
		if m.Err != nil || m.Subject != "Subject of "+m.ID {
			t.Errorf("message %s: subject %q, error %v; want its own part's subject", m.ID, m.Subject, m.Err)
		}
	}
}

func TestBatchTakesTheGuidesLayout(t *testing.T) {
	tg := newTarget(t)
	token := tg.token(t).AccessToken
	ids := tg.someMessageIDs(t, token, 2, 2)
	body := strings.NewReplacer("{id1}", ids[0], "{id2}", ids[1]).Replace(string(golden(t, "batch-request.txt")))
	got := tg.postBatch(t, token, "batch_foobarbaz", []byte(body))
	if got.status != http.StatusOK {
		t.Fatalf("%s: the guide's batch = %d; want 200\n%s", tg.name, got.status, got.body)
	}
	parts := readBatch(t, got.header.Get("Content-Type"), got.body)
	byID := map[string]batchPart{}
	for _, part := range parts {
		byID[part.contentID] = part
	}
	for i, want := range []string{ids[0], "@", ids[1]} {
		contentID := fmt.Sprintf("<response-item%d:12930812@barnyard.example.com>", i+1)
		part, ok := byID[contentID]
		if !ok || part.status() != http.StatusOK || !bytes.Contains(part.body, []byte(want)) {
			t.Errorf("%s: part %s = %q\n%s\nwant 200 with %q", tg.name, contentID, part.head, part.body, want)
		}
	}
	if len(parts) != 3 {
		t.Errorf("%s: %d parts; want 3", tg.name, len(parts))
	}
}

// TestBatchRefusals: a batch over the guide's limit is refused. (The guide
// also says a part's request line holds only the path, but Google takes a
// full URL, as Google's Java client sends it; the app sends paths, and the
// sandbox's strict mode is where a full URL is refused.)
func TestBatchRefusals(t *testing.T) {
	profilePart := func(contentID, target string) string {
		return "--b\r\nContent-Type: application/http\r\nContent-ID: <" + contentID + ">\r\n\r\nGET " + target + "\r\n\r\n"
	}
	tests := []struct {
		name  string
		parts []string
	}{
		{name: "101 parts, past the guide's limit of 100", parts: slices.Repeat([]string{profilePart("1", "/gmail/v1/users/me/profile")}, 101)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := newTarget(t)
			got := tg.postBatch(t, tg.token(t).AccessToken, "b", []byte(strings.Join(tt.parts, "")+"--b--\r\n"))
			if got.status == http.StatusOK {
				for _, part := range readBatch(t, got.header.Get("Content-Type"), got.body) {
					if part.status() == http.StatusOK {
						t.Errorf("%s answered part %s with 200; want the request refused", tg.name, part.contentID)
					}
				}
				return
			}
			if got.status != http.StatusBadRequest {
				t.Errorf("%s: batch = %d; want 400, or 200 with the part refused\n%s", tg.name, got.status, got.body)
			}
		})
	}
}

func TestBatchAnswersMatchSingleCalls(t *testing.T) {
	tg := newTarget(t)
	if tg.sandbox != nil {
		// Google may answer in any order; the sandbox must be told to.
		tg.sandbox.ShuffleBatchResponses(true)
	}
	page, err := tg.gmailClient(t).Unread(t.Context(), "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) < 2 {
		t.Skipf("%s: %d unread messages; this test needs 2", tg.name, len(page.Messages))
	}
	token := tg.token(t).AccessToken
	for _, m := range page.Messages {
		got := tg.gmailGet(t, token, messagesPath+"/"+m.ID+"?"+metadataQuery)
		if got.status != http.StatusOK || m.Err != nil {
			t.Fatalf("%s: message %s: batch error %v, single call %d\n%s", tg.name, m.ID, m.Err, got.status, got.body)
		}
		var single struct {
			Payload struct {
				Headers []struct{ Name, Value string } `json:"headers"`
			} `json:"payload"`
		}
		decode(t, got.body, &single)
		var subject string // the first Subject header, as the app reads it
		for _, h := range slices.Backward(single.Payload.Headers) {
			if strings.EqualFold(h.Name, "Subject") {
				subject = h.Value
			}
		}
		if want := gmail.DecodeHeader(subject); m.Subject != want {
			t.Errorf("%s: message %s from the batch has subject %q; a single call says %q", tg.name, m.ID, m.Subject, want)
		}
	}
}
