package gmail

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// What a Gmail answer of any size costs a view: the tests count the
// requests the client makes and the bytes it reads, never times.

// TestListIsCutAtThePageSize: a list answering more messages than the
// page asked for (maxResults, "Maximum number of messages to return",
// users.messages.list) is cut there: the rest would each cost a metadata
// call and a row.
func TestListIsCutAtThePageSize(t *testing.T) {
	const pageSize, answered = 50, 60
	h := newHostileGmail(t)
	box := newSizedMailbox(t, h, Config{}, slices.Repeat([]int{100}, answered)...)
	h.script("list", jsonResponse(string(h.sandbox.rawList(t, sizedAccount, answered))))

	page, err := box.client.Unread(t.Context(), "", pageSize)

	if err != nil {
		t.Fatalf("Unread() err = %v; want nil", err)
	}
	if got := len(page.Messages); got != pageSize {
		t.Errorf("Unread(%d) of a list answering %d = %d messages; want %d", pageSize, answered, got, pageSize)
	}
	for _, m := range page.Messages {
		if m.Err != nil {
			t.Errorf("message %d Err = %v; want nil", box.index[m.ID], m.Err)
		}
	}
	if got := h.recordedListQueries()[0].Get("maxResults"); got != fmt.Sprint(pageSize) {
		t.Errorf("list maxResults = %q; want %d", got, pageSize)
	}
	parts := 0
	for _, batch := range h.recordedBatches() {
		parts += len(batch.requests)
	}
	if got := len(h.recordedBatches()); got != 1 || parts != pageSize {
		t.Errorf("Unread() made %d batch requests for %d messages; want 1 for %d", got, parts, pageSize)
	}
}

// TestListOverItsBoundIsNotRead: a list answer longer than a page of
// references can be (15,000 IDs for maxResults=50) fails the page as a
// malformed answer after the bytes a page can take, and costs no metadata
// call: the app reads and holds no more of it, and does not ask again.
func TestListOverItsBoundIsNotRead(t *testing.T) {
	const pageSize, answered = 50, 15_000
	refs := make([]map[string]string, answered)
	for i := range refs {
		refs[i] = map[string]string{"id": testMessage(i).ID, "threadId": testMessage(i).ThreadID}
	}
	list, err := json.Marshal(map[string]any{"messages": refs, "resultSizeEstimate": answered})
	if err != nil {
		t.Fatal(err)
	}
	h := newHostileGmail(t)
	h.script("list", jsonResponse(string(list)))
	client, sleeper := h.client(t, Config{Cache: NewCache(1 << 20)})
	read := clientReads(client)

	page, err := client.Unread(t.Context(), "", pageSize)

	if !errors.Is(err, ErrBadResponse) || len(page.Messages) != 0 {
		t.Fatalf("Unread() of a list of %d bytes = %d messages, %v; want ErrBadResponse", len(list), len(page.Messages), err)
	}
	if got := h.calls(); got != 1 {
		t.Errorf("Unread() made %d Gmail calls; want 1, the list, not retried", got)
	}
	if got, limit := read.Load(), listResponseBytes(pageSize)+1; got > limit {
		t.Errorf("Unread() read %d bytes of a %d-byte list; want at most %d, a page's worth", got, len(list), limit)
	}
	if got := sleeper.recorded(); len(got) != 0 {
		t.Errorf("Unread() waited %v; want no retry", got)
	}
}

// TestTooLongAnswerIsRemembered: a message whose metadata answer alone is
// over MaxResponseBytes is shown as unavailable and not asked for again for
// tooLongMemory; the others come from the cache. So a
// second view makes the list call only, and after tooLongMemory the message
// is asked for again.
func TestTooLongAnswerIsRemembered(t *testing.T) {
	tests := []struct {
		name     string
		subjects []int
		tooLong  []int
		// firstCalls is the Gmail calls of the first view, the list's
		// included; laterCalls those of a view after tooLongMemory.
		firstCalls, laterCalls int64
	}{
		{
			name:     "batch, one message too long: 8, 4 and 4, 2 and 2, 1 and 1",
			subjects: []int{smallSubject, smallSubject, hugeSubject, smallSubject, smallSubject, smallSubject, smallSubject, smallSubject},
			tooLong:  []int{2}, firstCalls: 1 + 7, laterCalls: 1 + 1,
		},
		{
			name:     "batch, every message too long: 2n-1 batches on the first view only",
			subjects: slices.Repeat([]int{hugeSubject}, 50),
			tooLong:  everyOne(50),
			// A binary tree with 50 leaves has 99 nodes; after tooLongMemory,
			// the same tree again.
			firstCalls: 1 + 99, laterCalls: 1 + 99,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var clock atomic.Int64 // Unix nanoseconds
			clock.Store(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
			h := newHostileGmail(t)
			box := newSizedMailbox(t, h, Config{
				MaxResponseBytes: splitMaxBytes,
				Cache:            NewCache(8 << 20),
				Now:              func() time.Time { return time.Unix(0, clock.Load()).UTC() },
			}, tt.subjects...)
			read := clientReads(box.client)
			view := func(step string, wantCalls int64) int64 {
				t.Helper()
				calls, bytes := h.calls(), read.Load()
				page, err := box.client.Unread(t.Context(), "", len(tt.subjects))
				if err != nil {
					t.Fatalf("%s: Unread() err = %v; want nil", step, err)
				}
				checkTooLong(t, box, page, tt.tooLong)
				if got := h.calls() - calls; got != wantCalls {
					t.Errorf("%s: Unread() made %d Gmail calls; want %d", step, got, wantCalls)
				}
				return read.Load() - bytes
			}

			first := view("first view", tt.firstCalls)
			clock.Add(int64(tooLongMemory - time.Second))
			second := view("view within tooLongMemory", 1)
			clock.Add(int64(time.Second))
			view("view after tooLongMemory", tt.laterCalls)

			t.Logf("bytes read: %d on the first view, %d on the second", first, second)
			if limit := listResponseBytes(len(tt.subjects)); second > limit {
				t.Errorf("view within tooLongMemory read %d bytes; want the list's only, at most %d", second, limit)
			}
		})
	}
}

// checkTooLong checks that page shows every message of box, and that
// exactly those listed in tooLong are unavailable, their answers too long.
func checkTooLong(t *testing.T, box sizedMailbox, page Page, tooLong []int) {
	t.Helper()
	if len(page.Messages) != len(box.ids) {
		t.Fatalf("Unread() = %d messages; want %d", len(page.Messages), len(box.ids))
	}
	for _, m := range page.Messages {
		i := box.index[m.ID]
		switch {
		case slices.Contains(tooLong, i) && !errors.Is(m.Err, errTooLong):
			t.Errorf("message %d Err = %v; want its answer too long", i, m.Err)
		case !slices.Contains(tooLong, i) && (m.Err != nil || !strings.HasPrefix(m.Subject, fmt.Sprintf("%d x", i))):
			t.Errorf("message %d = %.20q…, %v; want its own subject", i, m.Subject, m.Err)
		}
	}
}

// everyOne is 0 to n-1.
func everyOne(n int) []int {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all
}

// clientReads makes c count the bytes it reads of its answers' bodies.
func clientReads(c *Client) *atomic.Int64 {
	var read atomic.Int64
	transport := c.hc.Transport
	c.hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := transport.RoundTrip(r)
		if err == nil {
			resp.Body = countingBody{ReadCloser: resp.Body, read: &read}
		}
		return resp, err
	})
	return &read
}

type countingBody struct {
	io.ReadCloser
	read *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.read.Add(int64(n))
	return n, err
}
