package gmail

import (
	"encoding/json"
	"errors"
	"maps"
	"net/url"
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
		{"defaults", Config{BaseURL: "https://gmail.googleapis.com"}, false},
		{"trailing slash", Config{BaseURL: "http://127.0.0.1:8080/"}, false},
		{"empty BaseURL", Config{}, true},
		{"relative BaseURL", Config{BaseURL: "/gmail"}, true},
		{"other scheme", Config{BaseURL: "ftp://gmail.googleapis.com"}, true},
		{"credentials in BaseURL", Config{BaseURL: "https://user:secret@gmail.googleapis.com"}, true},
		{"query in BaseURL", Config{BaseURL: "https://gmail.googleapis.com?key=secret"}, true},
		{"BatchSize over 50", Config{BaseURL: "https://gmail.googleapis.com", BatchSize: 51}, true},
		{"negative MaxInFlight", Config{BaseURL: "https://gmail.googleapis.com", MaxInFlight: -1}, true},
		{"negative CallTimeout", Config{BaseURL: "https://gmail.googleapis.com", CallTimeout: -time.Second}, true},
		{"negative MaxAttempts", Config{BaseURL: "https://gmail.googleapis.com", MaxAttempts: -1}, true},
		{"unknown Strategy", Config{BaseURL: "https://gmail.googleapis.com", Strategy: Strategy(7)}, true},
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

func TestList(t *testing.T) {
	gmail := newHostileGmail(t)
	account := gmail.sandbox.account(t, 0, 2)
	unreadCount := gmail.sandbox.UnreadCount(account)
	empty := slices.IndexFunc(gmail.sandbox.Accounts(), func(a string) bool { return gmail.sandbox.UnreadCount(a) == 0 })
	if empty < 0 {
		t.Fatalf("no sandbox account without unread mail; want one")
	}
	// sandboxList is the sandbox's answer to query, read without the client.
	sandboxList := func(t *testing.T, account string, query url.Values) ListResult {
		t.Helper()
		query = maps.Clone(query)
		delete(query, "prettyPrint")
		var result ListResult
		if err := json.Unmarshal(gmail.sandbox.rawGet(t, account, messagesPath, query), &result); err != nil {
			t.Fatalf("sandbox list: %v", err)
		}
		if result.Messages == nil {
			result.Messages = []MessageRef{} // Gmail omits it; List does not
		}
		return result
	}
	nextPage := sandboxList(t, account, url.Values{"q": {"is:unread"}, "maxResults": {"1"}}).NextPageToken
	if nextPage == "" {
		t.Fatalf("sandbox gave no next page token for 1 of %d unread messages", unreadCount)
	}
	tests := []struct {
		name      string
		account   string
		opts      ListOptions
		wantQuery url.Values
		wantLen   int // of the messages listed
	}{
		{
			name:      "first page of unread",
			account:   account,
			opts:      ListOptions{Query: "is:unread", MaxResults: 1},
			wantQuery: url.Values{"q": {"is:unread"}, "maxResults": {"1"}, "prettyPrint": {"false"}},
			wantLen:   1,
		},
		{
			name:      "next page",
			account:   account,
			opts:      ListOptions{Query: "is:unread", MaxResults: 1, PageToken: nextPage},
			wantQuery: url.Values{"q": {"is:unread"}, "maxResults": {"1"}, "pageToken": {nextPage}, "prettyPrint": {"false"}},
			wantLen:   1,
		},
		{
			name:      "label filter and no options sent when zero",
			account:   account,
			opts:      ListOptions{LabelIDs: []string{"INBOX", "UNREAD"}},
			wantQuery: url.Values{"labelIds": {"INBOX", "UNREAD"}, "prettyPrint": {"false"}},
			wantLen:   unreadCount,
		},
		{
			name:      "Gmail omits messages when nothing matches",
			account:   gmail.sandbox.Accounts()[empty],
			opts:      ListOptions{Query: "is:unread"},
			wantQuery: url.Values{"q": {"is:unread"}, "prettyPrint": {"false"}},
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

			got, err := client.List(t.Context(), tt.opts)

			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("List(%+v) = %+v, %v; want %+v, nil", tt.opts, got, err, want)
			}
			if queries := gmail.recordedListQueries()[before:]; len(queries) != 1 || !reflect.DeepEqual(queries[0], tt.wantQuery) {
				t.Errorf("List(%+v) sent queries %v; want %v", tt.opts, queries, tt.wantQuery)
			}
		})
	}
}

func TestGet(t *testing.T) {
	gmail := newHostileGmail(t)
	account := gmail.sandbox.account(t, 0, 1)
	var list struct{ Messages []struct{ ID string } }
	if err := json.Unmarshal(gmail.sandbox.rawList(t, account, 1), &list); err != nil || len(list.Messages) != 1 {
		t.Fatalf("sandbox list = %+v, %v; want 1 message", list, err)
	}
	id := list.Messages[0].ID
	// sandboxMessage is the sandbox's answer to a get of id with query,
	// read without the client.
	sandboxMessage := func(t *testing.T, query url.Values) Message {
		t.Helper()
		var raw struct {
			ID, ThreadID, Snippet, HistoryID, InternalDate string
			LabelIDs                                       []string
			SizeEstimate                                   int
			Payload                                        struct{ Headers []Header }
		}
		if err := json.Unmarshal(gmail.sandbox.rawGet(t, account, messagesPath+"/"+id, query), &raw); err != nil {
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
		return msg
	}
	metadata := sandboxMessage(t, url.Values{"format": {"metadata"}, "metadataHeaders": {"From", "Subject"}})
	var names []string
	for _, h := range metadata.Headers {
		names = append(names, h.Name)
	}
	if slices.Sort(names); !slices.Equal(names, []string{"From", "Subject"}) {
		t.Fatalf("sandbox metadata headers = %v; want From and Subject", metadata.Headers)
	}
	minimal := sandboxMessage(t, url.Values{"format": {"minimal"}})
	tests := []struct {
		name      string
		script    []scriptedResponse
		id        string
		opts      GetOptions
		want      Message
		wantErr   error
		wantCalls int64
	}{
		{
			name:      "metadata with chosen headers",
			id:        id,
			opts:      GetOptions{Format: "metadata", MetadataHeaders: []string{"From", "Subject"}},
			want:      metadata,
			wantCalls: 1,
		},
		{
			name:      "minimal has no headers",
			id:        id,
			opts:      GetOptions{Format: "minimal"},
			want:      minimal,
			wantCalls: 1,
		},
		{
			name: "numbers where Gmail sends strings are accepted",
			script: []scriptedResponse{jsonResponse(`{"id":"` + id + `","threadId":"t","historyId":12,"internalDate":1709294400000,` +
				`"payload":{"headers":[{"name":"Subject","value":"Hi"}]}}`)},
			id: id,
			want: Message{
				ID: id, ThreadID: "t", HistoryID: "12", InternalDate: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
				Headers: []Header{{Name: "Subject", Value: "Hi"}},
			},
			wantCalls: 1,
		},
		{name: "unknown message", id: "18cffffffffffff0", wantErr: ErrNotFound, wantCalls: 1},
		{name: "an id that cannot exist is not sent", id: "../profile", wantErr: ErrNotFound, wantCalls: 0},
		{name: "an unsupported format is not sent", id: id, opts: GetOptions{Format: "raw"}, wantErr: ErrBadRequest, wantCalls: 0},
		{
			name:      "an answer for another message is a bad response",
			script:    []scriptedResponse{jsonResponse(`{"id":"someoneelse"}`)},
			id:        id,
			wantErr:   ErrBadResponse,
			wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gmail.script("message "+tt.id, tt.script...)
			client, _ := gmail.client(t, Config{})
			before := gmail.calls()

			got, err := client.Get(t.Context(), tt.id, tt.opts)

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get(%q) err = %v; want %s", tt.id, err, sentinelName(tt.wantErr))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Get(%q) = %+v; want %+v", tt.id, got, tt.want)
			}
			if calls := gmail.calls() - before; calls != tt.wantCalls {
				t.Errorf("Get(%q) made %d calls; want %d", tt.id, calls, tt.wantCalls)
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
