package gmail

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestNewServiceValidatesConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"Gmail's limits by default", Config{BaseURL: "https://gmail.googleapis.com", CallTimeout: time.Second}, false},
		{"trailing slash", Config{BaseURL: "http://127.0.0.1:8080/", CallTimeout: time.Second}, false},
		{"empty BaseURL", Config{CallTimeout: time.Second}, true},
		{"relative BaseURL", Config{BaseURL: "/gmail", CallTimeout: time.Second}, true},
		{"other scheme", Config{BaseURL: "ftp://gmail.googleapis.com", CallTimeout: time.Second}, true},
		{"credentials in BaseURL", Config{BaseURL: "https://user:secret@gmail.googleapis.com", CallTimeout: time.Second}, true},
		{"query in BaseURL", Config{BaseURL: "https://gmail.googleapis.com?key=secret", CallTimeout: time.Second}, true},
		{"BatchSize over 50", Config{BaseURL: "https://gmail.googleapis.com", CallTimeout: time.Second, BatchSize: 51}, true},
		{"negative MaxInFlight", Config{BaseURL: "https://gmail.googleapis.com", CallTimeout: time.Second, MaxInFlight: -1}, true},
		{"no CallTimeout: config sets it", Config{BaseURL: "https://gmail.googleapis.com"}, true},
		{"negative CallTimeout", Config{BaseURL: "https://gmail.googleapis.com", CallTimeout: -time.Second}, true},
		{"negative MaxAttempts", Config{BaseURL: "https://gmail.googleapis.com", CallTimeout: time.Second, MaxAttempts: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewService(tt.cfg)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("NewService(%+v) err = %v; want error: %v", tt.cfg, err, tt.wantErr)
			}
		})
	}
}

func TestProfile(t *testing.T) {
	g := newSandboxGmail(t)
	account := g.account(t, 0, 0)
	var raw struct {
		EmailAddress                string
		MessagesTotal, ThreadsTotal int
		HistoryID                   string
	}
	if err := json.Unmarshal(g.rawGet(t, account, profilePath, nil), &raw); err != nil {
		t.Fatalf("sandbox profile: %v", err)
	}
	svc, _ := newTestService(t, g.server, Config{})
	client := svc.Client(g.httpClient(account), account)

	got, err := client.Profile(t.Context())

	want := Profile{EmailAddress: account, MessagesTotal: raw.MessagesTotal, ThreadsTotal: raw.ThreadsTotal, HistoryID: raw.HistoryID}
	if err != nil || got != want || raw.EmailAddress != account || want.MessagesTotal == 0 || want.HistoryID == "" {
		t.Errorf("Profile() = %+v, %v; want %+v, nil, as the sandbox says %+v", got, err, want, raw)
	}
}

func TestListUnread(t *testing.T) {
	gmail := newHostileGmail(t)
	account := gmail.sandbox.account(t, 0, 2)
	empty := slices.IndexFunc(gmail.sandbox.Accounts(), func(a string) bool { return gmail.sandbox.UnreadCount(a) == 0 })
	if empty < 0 {
		t.Fatalf("no sandbox account without unread mail; want one")
	}
	// sandboxList is the sandbox's answer to query, read without the client.
	sandboxList := func(t *testing.T, account string, query url.Values) listPage {
		t.Helper()
		query = maps.Clone(query)
		delete(query, "prettyPrint")
		var result listPage
		if err := json.Unmarshal(gmail.sandbox.rawGet(t, account, messagesPath, query), &result); err != nil {
			t.Fatalf("sandbox list: %v", err)
		}
		return result
	}
	nextPage := sandboxList(t, account, url.Values{"q": {"is:unread"}, "maxResults": {"1"}}).NextPageToken
	if nextPage == "" {
		t.Fatalf("sandbox gave no next page token for 1 of %d unread messages", gmail.sandbox.UnreadCount(account))
	}
	tests := []struct {
		name      string
		account   string
		pageToken string
		pageSize  int
		wantQuery url.Values
		wantLen   int // of the messages listed
	}{
		{
			name:      "first page of unread",
			account:   account,
			pageSize:  1,
			wantQuery: url.Values{"q": {"is:unread"}, "maxResults": {"1"}, "prettyPrint": {"false"}},
			wantLen:   1,
		},
		{
			name:      "next page",
			account:   account,
			pageToken: nextPage,
			pageSize:  1,
			wantQuery: url.Values{"q": {"is:unread"}, "maxResults": {"1"}, "pageToken": {nextPage}, "prettyPrint": {"false"}},
			wantLen:   1,
		},
		{
			name:      "Gmail omits messages when nothing matches",
			account:   gmail.sandbox.Accounts()[empty],
			pageSize:  50,
			wantQuery: url.Values{"q": {"is:unread"}, "maxResults": {"50"}, "prettyPrint": {"false"}},
			wantLen:   0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := sandboxList(t, tt.account, tt.wantQuery)
			if len(want.Messages) != tt.wantLen {
				t.Fatalf("sandbox lists %d messages for %v; the test needs %d", len(want.Messages), tt.wantQuery, tt.wantLen)
			}
			before := len(gmail.recordedListQueries())
			svc, _ := newTestService(t, gmail.server, Config{})
			client := svc.Client(authorizedClient(gmail.server, gmail.sandbox.IssueToken(tt.account).AccessToken), tt.account)

			got, err := client.listUnread(t.Context(), client.newSemaphore(), tt.pageToken, tt.pageSize)

			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("listUnread(%q, %d) = %+v, %v; want %+v, nil", tt.pageToken, tt.pageSize, got, err, want)
			}
			if queries := gmail.recordedListQueries()[before:]; len(queries) != 1 || !reflect.DeepEqual(queries[0], tt.wantQuery) {
				t.Errorf("listUnread(%q, %d) sent queries %v; want %v", tt.pageToken, tt.pageSize, queries, tt.wantQuery)
			}
		})
	}
}

// TestMessageDecoding: the answer to a metadata call, a users.messages
// resource, decodes into a Message field by field.
func TestMessageDecoding(t *testing.T) {
	g := newSandboxGmail(t)
	account := g.account(t, 0, 1)
	var list struct{ Messages []struct{ ID string } }
	if err := json.Unmarshal(g.rawList(t, account, 1), &list); err != nil || len(list.Messages) != 1 {
		t.Fatalf("sandbox list = %+v, %v; want 1 message", list, err)
	}
	id := list.Messages[0].ID
	// sandboxMessage is the sandbox's answer to a get of id with query, as
	// bytes and as read without the client.
	sandboxMessage := func(t *testing.T, query url.Values) ([]byte, Message) {
		t.Helper()
		body := g.rawGet(t, account, messagesPath+"/"+id, query)
		var raw struct {
			ID, ThreadID, Snippet, HistoryID, InternalDate string
			LabelIDs                                       []string
			SizeEstimate                                   int
			Payload                                        struct{ Headers []Header }
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("sandbox get %s: %v", id, err)
		}
		ms, err := strconv.ParseInt(raw.InternalDate, 10, 64)
		if err != nil || raw.HistoryID == "" || raw.SizeEstimate == 0 || len(raw.LabelIDs) == 0 {
			t.Fatalf("sandbox get %s = %+v, %v; want every field set", id, raw, err)
		}
		msg := Message{
			ID: raw.ID, ThreadID: raw.ThreadID, LabelIDs: raw.LabelIDs, Snippet: raw.Snippet, HistoryID: raw.HistoryID,
			InternalDate: time.UnixMilli(ms).UTC(), SizeEstimate: raw.SizeEstimate, Headers: raw.Payload.Headers,
		}
		if msg.Headers == nil {
			msg.Headers = []Header{}
		}
		return body, msg
	}
	metadataBody, metadata := sandboxMessage(t, metadataQuery())
	var names []string
	for _, h := range metadata.Headers {
		names = append(names, h.Name)
	}
	if slices.Sort(names); !slices.Equal(names, []string{"Date", "From", "Subject"}) {
		t.Fatalf("sandbox metadata headers = %v; want Date, From and Subject", metadata.Headers)
	}
	minimalBody, minimal := sandboxMessage(t, url.Values{"format": {"minimal"}})
	// Google's documented answer, users.messages.get with format=metadata,
	// https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get
	googles, err := os.ReadFile("../contract/testdata/message-metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   string
		body string
		want Message
	}{
		{name: "metadata with the headers asked for", id: id, body: string(metadataBody), want: metadata},
		{name: "minimal has no headers", id: id, body: string(minimalBody), want: minimal},
		{
			name: "Google's answer, the snippet raw, as Gmail sends it",
			id:   "18c5d5f4a1b2c3d4",
			body: string(googles),
			want: Message{
				ID: "18c5d5f4a1b2c3d4", ThreadID: "18c5d5f4a1b2c3d4", LabelIDs: []string{"UNREAD", "IMPORTANT", "CATEGORY_PERSONAL", "INBOX"},
				Snippet:   "Could you look at the figures before Friday&#39;s meeting? The &quot;Q3&quot; sheet is attached.",
				HistoryID: "2358077", InternalDate: time.UnixMilli(1702514467000).UTC(), SizeEstimate: 5873,
				Headers: []Header{
					{Name: "From", Value: "Alex Example <alex@example.com>"},
					{Name: "Date", Value: "Thu, 14 Dec 2023 09:41:07 +0900"},
					{Name: "Subject", Value: "Figures for Friday"},
				},
			},
		},
		{
			name: "numbers where Gmail sends strings are accepted",
			id:   id,
			body: `{"id":"` + id + `","threadId":"t","historyId":12,"internalDate":1709294400000,` +
				`"payload":{"headers":[{"name":"Subject","value":"Hi"}]}}`,
			want: Message{
				ID: id, ThreadID: "t", HistoryID: "12", InternalDate: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
				Headers: []Header{{Name: "Subject", Value: "Hi"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := batchPart{status: http.StatusOK, body: []byte(tt.body)}.result(tt.id, time.Now())

			if got.err != nil || !reflect.DeepEqual(got.msg, tt.want) {
				t.Errorf("result(%q) = %+v, %v; want %+v, nil", tt.id, got.msg, got.err, tt.want)
			}
		})
	}
}

func TestMessageHeaderIsCaseInsensitiveFirstMatch(t *testing.T) {
	msg := Message{Headers: []Header{{"Received", "x"}, {"SUBJECT", "first"}, {"Subject", "second"}}}
	tests := []struct{ name, want string }{
		{"subject", "first"},
		{"Subject", "first"},
		{"From", ""},
	}
	for _, tt := range tests {
		if got := msg.Header(tt.name); got != tt.want {
			t.Errorf("Header(%q) = %q; want %q", tt.name, got, tt.want)
		}
	}
}
