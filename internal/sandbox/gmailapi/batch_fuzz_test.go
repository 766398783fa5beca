package gmailapi

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBatch sends batch bodies, with the boundary the Content-Type names,
// to the batch endpoint. It never panics, and either refuses the whole
// batch with 400 or answers every part it read, in order, each under
// "response-" plus the part's Content-ID.
func FuzzBatch(f *testing.F) {
	part := func(id, request string) string {
		return "--b\r\nContent-Type: application/http\r\nContent-ID: " + id + "\r\n\r\n" + request + "\r\n"
	}
	for _, seed := range []string{
		part("<1>", "GET /gmail/v1/users/me/profile HTTP/1.1\r\n") + part("<2>", "GET /gmail/v1/users/me/messages?maxResults=2&fields=messages(id)\r\n") + "--b--\r\n",
		part("item1", "GET /gmail/v1/users/me/messages?q="+strings.Repeat("(", 1000)+"\r\n") + "--b--",
		part("x", "GET /gmail/v1/users/me/messages?fields="+strings.Repeat("messages(", 500)+"id"+strings.Repeat(")", 500)) + "--b--",
		part("y", "GET /gmail/v1/users/me/messages?fields=*,messages(id)") + part("z", "GET /gmail/v1/users/me/messages?fields=nosuchfield") + "--b--",
		part("h", "GET /gmail/v1/users/me/history?startHistoryId=1&pageToken=00001000000000000000") + "--b--",
		part("p", "POST /gmail/v1/users/me/messages/0000000000000001/modify?fields=id(\r\nContent-Type: application/json\r\n\r\n{}") + "--b--",
		part("bad", "GET") + part("url", "GET https://gmail.googleapis.com/gmail/v1/users/me/profile") + "--b--",
		"--b\r\nContent-Type: text/plain\r\n\r\nGET / HTTP/1.1\r\n--b--",
		"--b--", "", "--b\r\n",
	} {
		f.Add("b", []byte(seed))
	}
	s := newTestAPI(f)
	token := s.IssueToken(hanakoAddress).AccessToken
	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		newRequest := func() *http.Request {
			req := httptest.NewRequest(http.MethodPost, batchPath, bytes.NewReader(body))
			req.Header.Set("Content-Type", "multipart/mixed; boundary="+boundary)
			req.Header.Set("Authorization", "Bearer "+token)
			return req
		}
		resp := httptest.NewRecorder()
		s.ServeHTTP(resp, newRequest())
		parts, apiErr := readBatch(httptest.NewRecorder(), newRequest(), s.strict)
		if apiErr != nil {
			if resp.Code != http.StatusBadRequest {
				t.Fatalf("a batch readBatch refuses (%s) = %d; want 400", apiErr.Message, resp.Code)
			}
			return
		}
		if resp.Code != http.StatusOK {
			t.Fatalf("a batch of %d parts = %d; want 200\n%.500s", len(parts), resp.Code, resp.Body)
		}
		answers := batchAnswers(t, resp)
		if len(answers) != len(parts) {
			t.Fatalf("a batch of %d parts has %d answers", len(parts), len(answers))
		}
		for i, answer := range answers {
			want := ""
			if parts[i].contentID != "" {
				want = responseContentID(parts[i].contentID)
			}
			if answer.contentID != want {
				t.Errorf("answer %d has Content-ID %q; want %q, for the part's %q", i, answer.contentID, want, parts[i].contentID)
			}
		}
	})
}

// batchAnswer is one answer in a batch response.
type batchAnswer struct {
	contentID string
	status    int
}

// batchAnswers reads the parts of a batch response, each an HTTP response.
func batchAnswers(t *testing.T, resp *httptest.ResponseRecorder) []batchAnswer {
	t.Helper()
	_, params, err := mime.ParseMediaType(resp.Header().Get("Content-Type"))
	if err != nil {
		t.Fatalf("batch response Content-Type %q: %v", resp.Header().Get("Content-Type"), err)
	}
	reader := multipart.NewReader(bytes.NewReader(resp.Body.Bytes()), params["boundary"])
	var answers []batchAnswer
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return answers
		}
		if err != nil {
			t.Fatalf("batch response: %v", err)
		}
		inner, err := http.ReadResponse(bufio.NewReader(part), nil)
		if err != nil {
			t.Fatalf("batch response part %d: %v", len(answers)+1, err)
		}
		answers = append(answers, batchAnswer{contentID: part.Header.Get("Content-ID"), status: inner.StatusCode})
	}
}
