package gmailapi

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"sync"
	"testing"
)

// TestBatchPartsRunConcurrently holds every part at a barrier until all of
// them have arrived: parts served one after another would never get past it,
// so the batch answering at all shows they run at once, however fast or slow
// the machine.
func TestBatchPartsRunConcurrently(t *testing.T) {
	const parts = 50
	s := newTestAPI(t)
	barrier := newBarrier(parts)
	gmail := s.gmail
	s.gmail = http.NewServeMux()
	s.gmail.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		barrier.wait(t)
		gmail.ServeHTTP(w, r)
	})

	var body bytes.Buffer
	writer := multipart.NewWriter(&body)
	for i := range parts {
		part, err := writer.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/http"}, "Content-ID": {fmt.Sprintf("<%d>", i)}})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(part, "GET /gmail/v1/users/me/profile HTTP/1.1\r\n\r\n")
	}
	writer.Close()
	req := httptest.NewRequest(http.MethodPost, batchPath, &body)
	req.Header.Set("Content-Type", "multipart/mixed; boundary="+writer.Boundary())
	req.Header.Set("Authorization", "Bearer "+s.IssueToken(hanakoAddress).AccessToken)
	resp := httptest.NewRecorder()
	s.ServeHTTP(resp, req)

	if resp.Code != http.StatusOK || bytes.Count(resp.Body.Bytes(), []byte("HTTP/1.1 200 OK")) != parts {
		t.Errorf("batch of %d profile calls = %d with %d parts 200 OK; want 200 with all of them\n%.1000s",
			parts, resp.Code, bytes.Count(resp.Body.Bytes(), []byte("HTTP/1.1 200 OK")), resp.Body)
	}
}

// barrier lets its callers through once n of them are waiting.
type barrier struct {
	mu      sync.Mutex
	waiting int
	n       int
	open    chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, open: make(chan struct{})} }

func (b *barrier) wait(t *testing.T) {
	b.mu.Lock()
	b.waiting++
	if b.waiting == b.n {
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
	case <-t.Context().Done():
	}
}
