package gmail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gmailoauth/internal/sandbox"
)

func TestBatchRequestEncoding(t *testing.T) {
	// The sandbox's first account has between 51 and 100 unread messages:
	// more than one default batch, and a second batch with the rest.
	g := newSandboxGmail(t)
	unread := g.UnreadCount(g.Accounts()[0])
	if unread <= 50 || unread > 100 {
		t.Fatalf("sandbox's first account has %d unread messages; the test needs 51 to 100", unread)
	}
	tests := []struct {
		name           string
		messages       int
		batchSize      int
		wantPartCounts []int // sorted: batches go concurrently
	}{
		{name: "one batch", messages: 3, wantPartCounts: []int{3}},
		{name: "at most 50 parts by default", messages: unread, wantPartCounts: []int{unread - 50, 50}},
		{name: "a smaller BatchSize", messages: 12, batchSize: 5, wantPartCounts: []int{2, 5, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gmail := newHostileGmail(t)
			client, _ := gmail.client(t, Config{BatchSize: tt.batchSize})

			page, err := client.Unread(t.Context(), "", tt.messages)
			if err != nil {
				t.Fatalf("Unread() err = %v; want nil", err)
			}

			batches := gmail.recordedBatches()
			var partCounts []int
			var requested []string
			for _, batch := range batches {
				partCounts = append(partCounts, len(batch.contentIDs))
				if batch.partAuthorization {
					t.Errorf("a batch part carried Authorization; want it only on the outer request")
				}
				for i, contentID := range batch.contentIDs {
					if want := fmt.Sprintf("<%d>", i+1); contentID != want {
						t.Errorf("part %d Content-ID = %q; want %q", i+1, contentID, want)
					}
				}
				for _, line := range batch.requestLines {
					id, ok := strings.CutPrefix(line, "GET /gmail/v1/users/me/messages/")
					id, query, _ := strings.Cut(id, "?")
					if wantQuery := "format=metadata&metadataHeaders=From&metadataHeaders=Subject&metadataHeaders=Date&prettyPrint=false HTTP/1.1"; !ok || query != wantQuery {
						t.Errorf("part request line = %q; want GET /gmail/v1/users/me/messages/{id}?%s", line, wantQuery)
					}
					requested = append(requested, id)
				}
			}
			slices.Sort(partCounts)
			if !slices.Equal(partCounts, tt.wantPartCounts) {
				t.Errorf("batches had %v parts; want %v", partCounts, tt.wantPartCounts)
			}
			for _, summary := range page.Messages {
				if summary.Err != nil {
					t.Errorf("summary of %s Err = %v; want nil: the sandbox takes Google's batch layout only", summary.ID, summary.Err)
				}
			}
			// What the sandbox lists, read without the client.
			var list struct{ Messages []struct{ ID string } }
			if err := json.Unmarshal(gmail.sandbox.rawList(t, gmail.sandbox.Accounts()[0], tt.messages), &list); err != nil {
				t.Fatalf("sandbox list: %v", err)
			}
			var wantIDs []string
			for _, msg := range list.Messages {
				wantIDs = append(wantIDs, msg.ID)
			}
			slices.Sort(requested)
			slices.Sort(wantIDs)
			if len(wantIDs) != tt.messages || !slices.Equal(requested, wantIDs) {
				t.Errorf("batches asked for %v; want each of the %d listed messages once: %v", requested, tt.messages, wantIDs)
			}
		})
	}
}

func TestUnreadBatchResponses(t *testing.T) {
	tests := []struct {
		name string
		// setup steers gmail; id(n) is the ID of the n-th listed message.
		setup          func(gmail *hostileGmail, id func(n int) string)
		wantErrs       []error // per message; nil: metadata present
		wantBatchCalls int32
		wantWaits      []time.Duration
	}{
		{
			name:           "parts out of order are matched by Content-ID",
			setup:          func(gmail *hostileGmail, _ func(int) string) { gmail.sandbox.ShuffleBatchResponses(true) },
			wantErrs:       []error{nil, nil, nil, nil},
			wantBatchCalls: 1,
		},
		{
			name: "a part 404 fails only that message",
			setup: func(gmail *hostileGmail, id func(int) string) {
				gmail.script("message "+id(2), googleError(404, "notFound", "Not Found"))
			},
			wantErrs:       []error{nil, ErrNotFound, nil, nil},
			wantBatchCalls: 1,
		},
		{
			name: "a part 429 is retried in a smaller batch",
			setup: func(gmail *hostileGmail, id func(int) string) {
				gmail.script("message "+id(3), googleError(429, "rateLimitExceeded", "Too many"))
			},
			wantErrs:       []error{nil, nil, nil, nil},
			wantBatchCalls: 2,
			wantWaits:      []time.Duration{200 * time.Millisecond},
		},
		{
			name: "a part's Retry-After sets the wait",
			setup: func(gmail *hostileGmail, id func(int) string) {
				gmail.script("message "+id(1), googleError(503, "backendError", "Unavailable").withHeader("Retry-After", "2"))
			},
			wantErrs:       []error{nil, nil, nil, nil},
			wantBatchCalls: 2,
			wantWaits:      []time.Duration{2 * time.Second},
		},
		{
			name: "a part failing every attempt keeps its error",
			setup: func(gmail *hostileGmail, id func(int) string) {
				gmail.script("message "+id(4), slices.Repeat([]scriptedResponse{googleError(503, "backendError", "Unavailable")}, 4)...)
			},
			wantErrs:       []error{nil, nil, nil, ErrUnavailable},
			wantBatchCalls: 4,
			wantWaits:      []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
		},
		{
			name: "a part that is not an HTTP response",
			setup: func(gmail *hostileGmail, id func(int) string) {
				gmail.script("message "+id(1), scriptedResponse{rawPart: "garbage\r\n\r\n"})
			},
			wantErrs:       []error{ErrBadResponse, nil, nil, nil},
			wantBatchCalls: 1,
		},
		{
			name: "a part answering for another message fails only that message",
			setup: func(gmail *hostileGmail, id func(int) string) {
				gmail.script("message "+id(2), jsonResponse(`{"id":"someoneelse"}`))
			},
			wantErrs:       []error{nil, ErrBadResponse, nil, nil},
			wantBatchCalls: 1,
		},
		{
			name: "a part with malformed JSON",
			setup: func(gmail *hostileGmail, id func(int) string) {
				gmail.script("message "+id(2), jsonResponse(`{"id":`))
			},
			wantErrs:       []error{nil, ErrBadResponse, nil, nil},
			wantBatchCalls: 1,
		},
		{
			name: "an outer 503 is retried",
			setup: func(gmail *hostileGmail, _ func(int) string) {
				gmail.sandbox.InjectFaults(sandbox.Fault{Call: "batch", Status: 503})
			},
			wantErrs:       []error{nil, nil, nil, nil},
			wantBatchCalls: 2,
			wantWaits:      []time.Duration{200 * time.Millisecond},
		},
		{
			name: "an outer failure after retries fails every message, not the page",
			setup: func(gmail *hostileGmail, _ func(int) string) {
				gmail.sandbox.InjectFaults(slices.Repeat([]sandbox.Fault{{Call: "batch", Status: 500}}, 4)...)
			},
			wantErrs:       []error{ErrUnavailable, ErrUnavailable, ErrUnavailable, ErrUnavailable},
			wantBatchCalls: 4,
			wantWaits:      []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
		},
		{
			name:           "an outer answer that is not multipart",
			setup:          func(gmail *hostileGmail, _ func(int) string) { gmail.script("batch", jsonResponse(`{}`)) },
			wantErrs:       []error{ErrBadResponse, ErrBadResponse, ErrBadResponse, ErrBadResponse},
			wantBatchCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gmail := newHostileGmail(t)
			account := gmail.sandbox.account(t, 0, 4)
			want := gmail.sandbox.referencePage(t, account, 4)
			tt.setup(gmail, func(n int) string { return want.Messages[n-1].ID })
			client, sleeper := gmail.client(t, Config{})

			page, err := client.Unread(t.Context(), "", 4)

			if err != nil {
				t.Fatalf("Unread() err = %v; want nil", err)
			}
			if len(page.Messages) != len(want.Messages) {
				t.Fatalf("Unread() = %d messages; want %d", len(page.Messages), len(want.Messages))
			}
			for i, summary := range page.Messages {
				checkSummary(t, summary, want.Messages[i], tt.wantErrs[i])
			}
			if got := gmail.batchCalls.Load(); got != tt.wantBatchCalls {
				t.Errorf("Unread() made %d batch calls; want %d", got, tt.wantBatchCalls)
			}
			if got := sleeper.recorded(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("Unread() waited %v; want %v", got, tt.wantWaits)
			}
		})
	}
}

// checkSummary checks that summary is want (from comparablePage), or
// failed with wantErr and has only want's IDs.
func checkSummary(t *testing.T, summary, want Summary, wantErr error) {
	t.Helper()
	if wantErr != nil {
		if !errors.Is(summary.Err, wantErr) {
			t.Errorf("summary of %s Err = %v; want %s", want.ID, summary.Err, sentinelName(wantErr))
		}
		if onlyIDs := (Summary{ID: want.ID, ThreadID: want.ThreadID, Err: summary.Err}); !reflect.DeepEqual(summary, onlyIDs) {
			t.Errorf("failed summary = %+v; want only the IDs of %s and Err", summary, want.ID)
		}
		return
	}
	if got := comparablePage(Page{Messages: []Summary{summary}}).Messages[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("summary = %+v; want %+v", got, want)
	}
}

func TestUnreadBatchOuter401FailsThePage(t *testing.T) {
	g := newSandboxGmail(t)
	g.InjectFaults(sandbox.Fault{Call: "batch", Status: 401})
	client, _ := g.client(t, Config{})

	_, err := client.Unread(t.Context(), "", 10)

	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("Unread() err = %v; want ErrUnauthorized", err)
	}
}

// batchResponse builds a multipart/mixed batch response body from parts of
// Content-ID and text.
func batchResponse(t testing.TB, parts ...[2]string) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	writer := multipart.NewWriter(&buf)
	if err := writer.SetBoundary("batch_boundary"); err != nil {
		t.Fatal(err)
	}
	for _, part := range parts {
		w, err := writer.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/http"}, "Content-ID": {part[0]}})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(part[1]))
	}
	writer.Close()
	return "multipart/mixed; boundary=batch_boundary", buf.Bytes()
}

func okPart(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + body
}

func TestDecodeBatchResponse(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        func(t *testing.T) (string, []byte)
		wantStatus  map[int]int // part number → status; 0: the part failed to parse
		wantErr     bool
	}{
		{
			name: "Content-IDs with and without angle brackets",
			body: func(t *testing.T) (string, []byte) {
				return batchResponse(t, [2]string{"response-2", okPart("{}")}, [2]string{"<response-1>", okPart("{}")}, [2]string{"response-<3>", okPart("{}")})
			},
			wantStatus: map[int]int{1: 200, 2: 200, 3: 200},
		},
		{
			name: "parts not asked for are ignored, repeats too",
			body: func(t *testing.T) (string, []byte) {
				return batchResponse(t,
					[2]string{"response-1", okPart("{}")},
					[2]string{"response-1", "HTTP/1.1 500 Internal Server Error\r\n\r\n"},
					[2]string{"response-4", okPart("{}")},
					[2]string{"response-0", okPart("{}")},
					[2]string{"item-2", okPart("{}")},
				)
			},
			wantStatus: map[int]int{1: 200},
		},
		{
			name: "an error status and an unparseable part",
			body: func(t *testing.T) (string, []byte) {
				return batchResponse(t,
					[2]string{"response-1", "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{}"},
					[2]string{"response-2", "this is not HTTP"},
				)
			},
			wantStatus: map[int]int{1: 404, 2: 0},
		},
		{
			name: "a broken multipart keeps the parts before the break",
			body: func(t *testing.T) (string, []byte) {
				contentType, body := batchResponse(t, [2]string{"response-1", okPart("{}")}, [2]string{"response-2", okPart("{}")})
				cut := bytes.LastIndex(body, []byte("--batch_boundary\r\n"))
				return contentType, append(body[:cut:cut], "--batch_boundary\r\nContent-ID response-2\r\n"...)
			},
			wantStatus: map[int]int{1: 200},
			wantErr:    true,
		},
		{
			name:    "not multipart",
			body:    func(*testing.T) (string, []byte) { return "application/json", []byte("{}") },
			wantErr: true,
		},
		{
			name:    "no boundary",
			body:    func(*testing.T) (string, []byte) { return "multipart/mixed", []byte("{}") },
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			contentType, body := tt.body(t)

			parts, err := decodeBatchResponse(contentType, body, 3)

			if (err != nil) != tt.wantErr {
				t.Errorf("decodeBatchResponse() err = %v; want error: %v", err, tt.wantErr)
			}
			if tt.wantErr && err != nil && !errors.Is(err, ErrBadResponse) {
				t.Errorf("decodeBatchResponse() err = %v; want ErrBadResponse", err)
			}
			gotStatus := map[int]int{}
			for number, part := range parts {
				gotStatus[number] = part.status
				if part.status == 0 && !errors.Is(part.err, ErrBadResponse) {
					t.Errorf("part %d err = %v; want ErrBadResponse", number, part.err)
				}
			}
			if tt.wantStatus == nil {
				tt.wantStatus = map[int]int{}
			}
			if fmt.Sprint(gotStatus) != fmt.Sprint(tt.wantStatus) {
				t.Errorf("decodeBatchResponse() part statuses = %v; want %v", gotStatus, tt.wantStatus)
			}
		})
	}
}

func FuzzDecodeBatchResponse(f *testing.F) {
	contentType, valid := batchResponse(f,
		[2]string{"response-2", okPart(`{"id":"b","threadId":"t","snippet":"x &amp; y","payload":{"headers":[{"name":"From","value":"=?UTF-8?B?5bGx55Sw?= <a@b>"}]}}`)},
		[2]string{"<response-1>", "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\n\r\n{\"error\":{\"code\":429}}"},
		[2]string{"response-3", "garbage"},
	)
	f.Add(contentType, valid)
	f.Add(contentType, valid[:len(valid)/2])
	f.Add("multipart/mixed; boundary=x", []byte("--x\r\nContent-ID: response-1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{}\r\n--x--"))
	f.Add("text/plain", []byte("hello"))
	ids := []string{"a", "b", "c"}
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		parts, err := decodeBatchResponse(contentType, body, len(ids))
		if err != nil && !errors.Is(err, ErrBadResponse) {
			t.Fatalf("decodeBatchResponse() err = %v; want nil or ErrBadResponse", err)
		}
		if len(parts) > len(ids) {
			t.Fatalf("decodeBatchResponse() = %d parts; want at most %d", len(parts), len(ids))
		}
		for number, part := range parts {
			if number < 1 || number > len(ids) {
				t.Fatalf("decodeBatchResponse() has part %d; want 1..%d", number, len(ids))
			}
			result := part.result(ids[number-1], now)
			if result.err != nil {
				continue
			}
			summary := summarize(result.msg)
			for _, text := range []string{summary.From.Name, summary.From.Email, summary.Subject, summary.Snippet} {
				if !utf8.ValidString(text) {
					t.Fatalf("summary text %q is not valid UTF-8", text)
				}
			}
			if n := utf8.RuneCountInString(summary.Subject); n > maxSubjectRunes {
				t.Fatalf("summary Subject has %d runes; want at most %d", n, maxSubjectRunes)
			}
		}
	})
}
