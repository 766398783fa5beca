package gmail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

// Subject lengths that size a message's metadata answer against
// splitMaxBytes: the rest of an answer, and its part in a batch, take about
// 600 bytes in the sandbox's answers; should those grow by some 400 bytes a
// message, the counts below change, and these lengths want measuring again.
const (
	splitMaxBytes = 8000
	smallSubject  = 1000  // four answers fit, eight do not
	medSubject    = 2500  // two answers and an error fit, three answers do not
	aloneSubject  = 5000  // one answer fits, two do not
	hugeSubject   = 10000 // one answer alone does not fit
)

// sizedMailbox is a mailbox of its own on h's sandbox with an unread message
// per subject length, and a Client of it with cfg.
type sizedMailbox struct {
	client  *Client
	sleeper *sleepRecorder
	ids     []string       // in delivery order
	index   map[string]int // position in ids, by ID
}

const sizedAccount = "sized@sandbox.example"

func newSizedMailbox(t *testing.T, h *hostileGmail, cfg Config, subjects ...int) sizedMailbox {
	t.Helper()
	box := sizedMailbox{index: map[string]int{}}
	for i, n := range subjects {
		id := h.sandbox.Deliver(sizedAccount, sandbox.Delivery{Subject: subjectOf(i, n)})
		box.index[id] = i
		box.ids = append(box.ids, id)
	}
	svc, sleeper := newTestService(t, h.server, cfg)
	box.client = svc.Client(authorizedClient(h.server, h.sandbox.IssueToken(sizedAccount).AccessToken), sizedAccount)
	box.sleeper = sleeper
	return box
}

// subjectOf is the subject of the i-th message, n bytes long.
func subjectOf(i, n int) string {
	prefix := fmt.Sprintf("%d ", i)
	return prefix + strings.Repeat("x", n-len(prefix))
}

// checkSplitPage checks that page has a summary of every message of box,
// and that exactly the messages listed in tooLong failed, each for its own
// answer being over the limit.
func checkSplitPage(t *testing.T, box sizedMailbox, page Page, tooLong ...int) {
	t.Helper()
	if len(page.Messages) != len(box.ids) {
		t.Fatalf("Unread() = %d messages; want %d", len(page.Messages), len(box.ids))
	}
	for _, m := range page.Messages {
		i := box.index[m.ID]
		switch {
		case !slices.Contains(tooLong, i) && m.Err != nil:
			t.Errorf("message %d Err = %v; want nil", i, m.Err)
		case !slices.Contains(tooLong, i) && !strings.HasPrefix(m.Subject, fmt.Sprintf("%d x", i)):
			t.Errorf("message %d Subject = %.20q…; want its own", i, m.Subject)
		case slices.Contains(tooLong, i) && (!errors.Is(m.Err, ErrBadResponse) || !errors.Is(m.Err, errTooLong) || !strings.Contains(m.Err.Error(), "alone")):
			t.Errorf("message %d Err = %v; want ErrBadResponse, its answer alone too long", i, m.Err)
		}
	}
}

// batchesWith returns how many of the batches h saw asked for message id.
func batchesWith(h *hostileGmail, id string) int {
	n := 0
	for _, batch := range h.recordedBatches() {
		if slices.ContainsFunc(batch.requests, func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/"+id) }) {
			n++
		}
	}
	return n
}

// TestOversizedBatchAnswerIsSplit: a batch whose answer is over
// MaxResponseBytes is sent again in halves, down to single messages, so
// only a message whose own answer is too long fails. The split is a binary
// tree over the batch: a leaf is a batch whose answer fits, or a message.
func TestOversizedBatchAnswerIsSplit(t *testing.T) {
	const maxInFlight = 3
	tests := []struct {
		name     string
		subjects []int
		tooLong  []int // messages whose answer alone is over the limit
		// wantRequests is the number of batch requests: the tree's nodes.
		wantRequests int
		wantLevels   int // the most batches one message is in: the tree's depth
	}{
		{
			name:         "each half fits: 8, then 4 and 4",
			subjects:     slices.Repeat([]int{smallSubject}, 8),
			wantRequests: 3,
			wantLevels:   2,
		},
		{
			name:         "one message too long alone: 8, 4 and 4, 2 and 2, 1 and 1",
			subjects:     []int{smallSubject, smallSubject, hugeSubject, smallSubject, smallSubject, smallSubject, smallSubject, smallSubject},
			tooLong:      []int{2},
			wantRequests: 7,
			wantLevels:   4,
		},
		{
			name:         "a single message too long alone is not split",
			subjects:     []int{hugeSubject},
			tooLong:      []int{0},
			wantRequests: 1,
			wantLevels:   1,
		},
		{
			name:     "every message fits only alone: 2n-1 requests, 1+⌈log2 50⌉ levels",
			subjects: slices.Repeat([]int{aloneSubject}, 50),
			// A binary tree with 50 leaves has 49 inner nodes.
			wantRequests: 99,
			wantLevels:   7,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHostileGmail(t)
			box := newSizedMailbox(t, h, Config{MaxResponseBytes: splitMaxBytes, MaxInFlight: maxInFlight}, tt.subjects...)
			mostInFlight := clientInFlight(box.client)

			page, err := box.client.Unread(t.Context(), "", len(tt.subjects))

			if err != nil {
				t.Fatalf("Unread() err = %v; want nil", err)
			}
			checkSplitPage(t, box, page, tt.tooLong...)
			if got := len(h.recordedBatches()); got != tt.wantRequests {
				t.Errorf("Unread() made %d batch requests; want %d", got, tt.wantRequests)
			}
			levels := 0
			for _, id := range box.ids {
				levels = max(levels, batchesWith(h, id))
			}
			if levels != tt.wantLevels {
				t.Errorf("a message was in up to %d batches; want %d", levels, tt.wantLevels)
			}
			if got := mostInFlight.Load(); got > maxInFlight {
				t.Errorf("Unread() had %d calls in flight; want at most MaxInFlight = %d", got, maxInFlight)
			}
			if got := box.sleeper.recorded(); len(got) != 0 {
				t.Errorf("Unread() waited %v; want no wait: a split is no retry", got)
			}
		})
	}
}

// TestOversizedBatchSplitSharesTheRetries: a batch split in a retry spends
// the attempts its messages have left, not MaxAttempts more each. The first
// answer fits because three messages are 503; their retry, with the fourth
// still 503, does not, and is split in two.
func TestOversizedBatchSplitSharesTheRetries(t *testing.T) {
	h := newHostileGmail(t)
	box := newSizedMailbox(t, h, Config{MaxResponseBytes: splitMaxBytes}, slices.Repeat([]int{medSubject}, 4)...)
	unavailable := googleError(503, "backendError", "Unavailable")
	for _, id := range box.ids[:3] {
		h.script("message "+id, unavailable)
	}
	failing := box.ids[3]
	h.script("message "+failing, slices.Repeat([]scriptedResponse{unavailable}, 10)...)

	page, err := box.client.Unread(t.Context(), "", len(box.ids))

	if err != nil {
		t.Fatalf("Unread() err = %v; want nil", err)
	}
	for _, m := range page.Messages {
		if i := box.index[m.ID]; m.ID == failing && !errors.Is(m.Err, ErrUnavailable) || m.ID != failing && m.Err != nil {
			t.Errorf("message %d Err = %v; want ErrUnavailable for message 3 only", i, m.Err)
		}
	}
	// Attempt 1: 4; attempt 2: 4, too long, then 2 and 2; attempts 3 and 4: 1.
	if got := len(h.recordedBatches()); got != 6 {
		t.Errorf("Unread() made %d batch requests; want 6", got)
	}
	if got := batchesWith(h, failing); got != 5 {
		t.Errorf("the failing message was in %d batches; want 5: 4 attempts, one of them split", got)
	}
	if got, want := box.sleeper.recorded(), []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("Unread() waited %v; want %v, as for MaxAttempts = 4", got, want)
	}
}

// TestOversizedBatchRetriesStayInTheirHalves: messages retried after a
// split go again in the batches they were answered in, not together in one
// that would be too long again and spend their quota for nothing. Sixteen
// answers are split down to quarters; two messages of each quarter are 503
// there, after their answers in the batches too long.
func TestOversizedBatchRetriesStayInTheirHalves(t *testing.T) {
	h := newHostileGmail(t)
	box := newSizedMailbox(t, h, Config{MaxResponseBytes: splitMaxBytes}, slices.Repeat([]int{smallSubject}, 16)...)
	var list struct{ Messages []struct{ ID string } }
	if err := json.Unmarshal(h.sandbox.rawList(t, sizedAccount, 16), &list); err != nil {
		t.Fatalf("sandbox list: %v", err)
	}
	for quarter := range slices.Chunk(list.Messages, 4) {
		for _, m := range quarter[:2] {
			query := metadataQuery()
			query.Set("prettyPrint", "false")
			answer := jsonResponse(string(h.sandbox.rawGet(t, sizedAccount, messagesPath+"/"+m.ID, query)))
			h.script("message "+m.ID, answer, answer, googleError(503, "backendError", "Unavailable"))
		}
	}

	page, err := box.client.Unread(t.Context(), "", len(box.ids))

	if err != nil {
		t.Fatalf("Unread() err = %v; want nil", err)
	}
	checkSplitPage(t, box, page)
	var sizes []int
	for _, batch := range h.recordedBatches() {
		sizes = append(sizes, len(batch.requests))
	}
	slices.Sort(sizes)
	// Attempt 1: 16, 8 and 8, four of 4; attempt 2: four of 2.
	if want := []int{2, 2, 2, 2, 4, 4, 4, 4, 8, 8, 16}; !slices.Equal(sizes, want) {
		t.Errorf("Unread() sent batches of %v messages; want %v", sizes, want)
	}
}

// TestOversizedBatchSplitStopsWithTheContext: the halves of a batch whose
// answer was too long are not sent once the caller's context has ended.
func TestOversizedBatchSplitStopsWithTheContext(t *testing.T) {
	h := newHostileGmail(t)
	box := newSizedMailbox(t, h, Config{MaxResponseBytes: splitMaxBytes}, slices.Repeat([]int{smallSubject}, 8)...)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	transport := box.client.hc.Transport
	// The context ends as the client closes the batch answer it found too long.
	box.client.hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := transport.RoundTrip(r)
		if err == nil && r.URL.Path == batchPath {
			resp.Body = closeHook{ReadCloser: resp.Body, onClose: cancel}
		}
		return resp, err
	})

	page, err := box.client.Unread(ctx, "", len(box.ids))

	if err != nil {
		t.Fatalf("Unread() err = %v; want nil", err)
	}
	for _, m := range page.Messages {
		if !errors.Is(m.Err, ErrUnavailable) || !errors.Is(m.Err, context.Canceled) {
			t.Errorf("message %d Err = %v; want ErrUnavailable for context.Canceled", box.index[m.ID], m.Err)
		}
	}
	if got := len(h.recordedBatches()); got != 1 {
		t.Errorf("Unread() made %d batch requests; want 1", got)
	}
}

// clientInFlight makes c record the most requests it has in flight at once,
// from sending one to closing its answer, which the semaphore bounds. The
// server cannot count them: it goes on writing an answer that the client has
// stopped reading.
func clientInFlight(c *Client) *atomic.Int32 {
	var inFlight, most atomic.Int32
	transport := c.hc.Transport
	c.hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n := inFlight.Add(1)
		for seen := most.Load(); n > seen && !most.CompareAndSwap(seen, n); seen = most.Load() {
		}
		resp, err := transport.RoundTrip(r)
		if err != nil {
			inFlight.Add(-1)
			return nil, err
		}
		resp.Body = closeHook{ReadCloser: resp.Body, onClose: sync.OnceFunc(func() { inFlight.Add(-1) })}
		return resp, nil
	})
	return &most
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeHook calls onClose when the body is closed.
type closeHook struct {
	io.ReadCloser
	onClose func()
}

func (c closeHook) Close() error {
	c.onClose()
	return c.ReadCloser.Close()
}
