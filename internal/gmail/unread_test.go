package gmail

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

// comparablePage returns page with its dates in UTC and its errors as text, so
// that equal pages compare equal with reflect.DeepEqual.
func comparablePage(page Page) Page {
	normal := page
	normal.Messages = make([]Summary, len(page.Messages))
	for i, summary := range page.Messages {
		summary.Date = summary.Date.UTC()
		if summary.Err != nil {
			summary.Err = errors.New(summary.Err.Error())
		}
		normal.Messages[i] = summary
	}
	return normal
}

// TestUnreadPageOfManyMessages: a page of 55 in two batches, one message
// not found and one rate limited, then answered.
func TestUnreadPageOfManyMessages(t *testing.T) {
	gmail := newHostileGmail(t)
	account := gmail.sandbox.account(t, 0, 56)
	want := gmail.sandbox.referencePage(t, account, 55)
	gmail.script("message "+want.Messages[7].ID, googleError(404, "notFound", "Requested entity was not found.")).
		script("message "+want.Messages[30].ID, googleError(429, "rateLimitExceeded", "Too many"))
	client, _ := gmail.client(t, Config{})

	page, err := client.Unread(t.Context(), "", 55)

	if err != nil {
		t.Fatalf("Unread() err = %v; want nil", err)
	}
	if len(page.Messages) != 55 || page.NextPageToken != want.NextPageToken || want.NextPageToken == "" ||
		page.ResultSizeEstimate != gmail.sandbox.UnreadCount(account) {
		t.Errorf("Unread() = %d messages, next %q, estimate %d; want 55, %q, %d",
			len(page.Messages), page.NextPageToken, page.ResultSizeEstimate, want.NextPageToken, gmail.sandbox.UnreadCount(account))
	}
	for i, summary := range page.Messages {
		var wantErr error
		if i == 7 {
			wantErr = ErrNotFound
		}
		checkSummary(t, summary, want.Messages[i], wantErr)
	}
}

func TestUnreadSummary(t *testing.T) {
	base := testMessage(1)
	internalDate := time.UnixMilli(base.InternalDate)
	with := func(headers ...Header) scriptedMessage {
		msg := base
		msg.Headers = headers
		return msg
	}
	tests := []struct {
		name string
		msg  scriptedMessage
		want Summary
	}{
		{
			name: "encoded Japanese sender and subject",
			msg: with(
				Header{"From", "=?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>"},
				Header{"Subject", "=?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN44Gn44GZ?="},
				Header{"Date", "Fri, 1 Mar 2024 21:00:00 +0900"},
			),
			want: Summary{
				From:    Address{Name: "山田太郎", Email: "taro@example.jp"},
				Subject: "日本語の件名です",
				Date:    time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
			},
		},
		{
			name: "no Date header falls back to the internal date",
			msg:  with(Header{"From", "bob@example.com"}, Header{"Subject", "Hi"}),
			want: Summary{From: Address{Email: "bob@example.com"}, Subject: "Hi", Date: internalDate},
		},
		{
			name: "an unparseable Date header falls back to the internal date",
			msg:  with(Header{"Date", "the day before yesterday"}),
			want: Summary{Date: internalDate},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gmail := newHostileGmail(t).scriptMessage(tt.msg)
			client, _ := gmail.client(t, Config{})

			page, err := client.Unread(t.Context(), "", 0)

			if err != nil || len(page.Messages) != 1 {
				t.Fatalf("Unread() = %d messages, err = %v; want 1 message, nil", len(page.Messages), err)
			}
			want := tt.want
			want.ID, want.ThreadID = tt.msg.ID, tt.msg.ThreadID
			want.Snippet = "Message 1: it's <b>here</b>"
			if got := comparablePage(page).Messages[0]; !reflect.DeepEqual(got, comparablePage(Page{Messages: []Summary{want}}).Messages[0]) {
				t.Errorf("Unread() summary = %+v; want %+v", got, want)
			}
		})
	}
}

func TestUnreadSnippetIsUnescapedOnce(t *testing.T) {
	tests := []struct{ snippet, want string }{
		{"It&#39;s &lt;b&gt;", "It's <b>"},
		{"Tom &amp;amp; Jerry", "Tom &amp; Jerry"},
		{"plain", "plain"},
		{"line\nbreak", "line break"},
	}
	for _, tt := range tests {
		msg := testMessage(1)
		msg.Snippet = tt.snippet
		gmail := newHostileGmail(t).scriptMessage(msg)
		client, _ := gmail.client(t, Config{})

		page, err := client.Unread(t.Context(), "", 0)

		if err != nil || len(page.Messages) != 1 || page.Messages[0].Snippet != tt.want {
			t.Errorf("Unread() of snippet %q = %+v, %v; want Snippet %q", tt.snippet, page.Messages, err, tt.want)
		}
	}
}

func TestUnreadFailsOnlyWhenTheListFailsOrTheTokenIsRejected(t *testing.T) {
	tests := []struct {
		name   string
		faults []sandbox.Fault
		// scriptList, given the sandbox's list of three messages, returns
		// the list to answer instead.
		scriptList func(t *testing.T, real []byte) scriptedResponse
		wantErr    error
		// with no wantErr: the Err of one message (the first, unless a get
		// fault picks another); the other two succeed
		wantOneErr error
	}{
		{
			name:    "list rejected token",
			faults:  []sandbox.Fault{{Call: "list", Status: 401}},
			wantErr: ErrUnauthorized,
		},
		{
			name:    "list unavailable after retries",
			faults:  []sandbox.Fault{{Call: "list", Status: 503}, {Call: "list", Status: 503}},
			wantErr: ErrUnavailable,
		},
		{
			name:    "a metadata call rejecting the token",
			faults:  []sandbox.Fault{{Call: "get", Status: 401}},
			wantErr: ErrUnauthorized,
		},
		{
			name:       "a metadata call forbidden keeps the page",
			faults:     []sandbox.Fault{{Call: "get", Status: 403}},
			wantOneErr: ErrForbidden,
		},
		{
			name: "an impossible ID in the list keeps the page",
			scriptList: func(t *testing.T, real []byte) scriptedResponse {
				var list map[string]any
				if err := json.Unmarshal(real, &list); err != nil {
					t.Fatalf("sandbox list %s: %v", real, err)
				}
				refs := list["messages"].([]any)
				refs[0] = map[string]any{"id": "../../profile", "threadId": "t"}
				body, err := json.Marshal(list)
				if err != nil {
					t.Fatal(err)
				}
				return jsonResponse(string(body))
			},
			wantOneErr: ErrBadResponse,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gmail := newHostileGmail(t)
			account := gmail.sandbox.account(t, 0, 3)
			want := gmail.sandbox.referencePage(t, account, 3)
			if tt.scriptList != nil {
				gmail.script("list", tt.scriptList(t, gmail.sandbox.rawList(t, account, 3)))
			}
			gmail.sandbox.InjectFaults(tt.faults...)
			client, _ := gmail.client(t, Config{MaxAttempts: 2})

			page, err := client.Unread(t.Context(), "", 3)

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Unread() err = %v; want %s", err, sentinelName(tt.wantErr))
			}
			if tt.wantErr != nil {
				return
			}
			if len(page.Messages) != 3 {
				t.Fatalf("Unread() = %d messages; want 3", len(page.Messages))
			}
			// The batch parts run concurrently in the sandbox, as in Gmail,
			// so its get fault hits any one message.
			failed := slices.IndexFunc(page.Messages, func(s Summary) bool { return s.Err != nil })
			if failed < 0 || (tt.faults == nil && failed != 0) || !errors.Is(page.Messages[failed].Err, tt.wantOneErr) {
				t.Fatalf("Unread() = %+v; want one summary with %s", page.Messages, sentinelName(tt.wantOneErr))
			}
			for i, summary := range comparablePage(page).Messages {
				if i != failed && !reflect.DeepEqual(summary, want.Messages[i]) {
					t.Errorf("Unread() message %d = %+v; want %+v", i+1, summary, want.Messages[i])
				}
			}
			// An impossible ID is not sent: in a part's request line it would
			// address another resource.
			for _, batch := range gmail.recordedBatches() {
				for _, line := range batch.requestLines {
					if strings.Contains(line, "..") {
						t.Errorf("a batch part asked %q; want no impossible ID sent", line)
					}
				}
			}
		})
	}
}

func TestUnreadRespectsMaxInFlight(t *testing.T) {
	tests := []struct {
		name         string
		messages     int
		batchSize    int
		maxInFlight  int
		metadataCall int // calls the gate should expect
	}{
		{name: "concurrent batches", messages: 40, batchSize: 5, maxInFlight: 3, metadataCall: 8},
		{name: "default cap of 10", messages: 25, batchSize: 2, metadataCall: 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantMax := int32(tt.maxInFlight)
			if wantMax == 0 {
				wantMax = defaultMaxInFlight
			}
			gmail := newHostileGmail(t)
			gmail.sandbox.account(t, 0, tt.messages)
			gmail.gate = &concurrencyGate{limit: int(wantMax), total: tt.metadataCall}
			client, _ := gmail.client(t, Config{
				BatchSize: tt.batchSize, MaxInFlight: tt.maxInFlight,
			})

			page, err := client.Unread(t.Context(), "", tt.messages)

			if err != nil || len(page.Messages) != tt.messages {
				t.Fatalf("Unread() = %d messages, err = %v; want %d, nil", len(page.Messages), err, tt.messages)
			}
			for _, summary := range page.Messages {
				if summary.Err != nil {
					t.Errorf("summary of %s Err = %v; want nil", summary.ID, summary.Err)
				}
			}
			if got := gmail.maxInFlight.Load(); got != wantMax {
				t.Errorf("Unread() had up to %d calls in flight; want exactly MaxInFlight = %d", got, wantMax)
			}
		})
	}
}

func TestUnreadPageSize(t *testing.T) {
	tests := []struct {
		pageSize       int
		wantMaxResults string
	}{
		{0, "50"},
		{-1, "50"},
		{20, "20"},
		{10000, "500"},
	}
	for _, tt := range tests {
		gmail := newHostileGmail(t)
		gmail.sandbox.account(t, 0, 2)
		client, _ := gmail.client(t, Config{})
		first, err := client.Unread(t.Context(), "", 1)
		if err != nil || first.NextPageToken == "" {
			t.Fatalf("Unread(pageSize 1) = next %q, %v; want a next page, nil", first.NextPageToken, err)
		}

		if _, err := client.Unread(t.Context(), first.NextPageToken, tt.pageSize); err != nil {
			t.Fatalf("Unread(pageSize %d) err = %v; want nil", tt.pageSize, err)
		}

		queries := gmail.recordedListQueries()
		if len(queries) != 2 || queries[1].Get("maxResults") != tt.wantMaxResults ||
			queries[1].Get("q") != "is:unread" || queries[1].Get("pageToken") != first.NextPageToken {
			t.Errorf("Unread(pageSize %d) listed with %v; want a second list with q=is:unread, maxResults=%s, pageToken=%s", tt.pageSize, queries, tt.wantMaxResults, first.NextPageToken)
		}
	}
}
