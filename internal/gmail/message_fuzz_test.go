package gmail

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzMessageJSON decodes any body as Gmail's answer to messages.get for
// one message, the way a batch part is decoded, and checks
// that it fails as ErrBadResponse or gives a Summary for that message whose
// every text is valid UTF-8, free of control characters and bounded.
func FuzzMessageJSON(f *testing.F) {
	const id = "18c2f0a1b2c3d4e5"
	for _, seed := range []string{
		`{"id":"18c2f0a1b2c3d4e5","threadId":"18c2f0a1b2c3d4e5","labelIds":["UNREAD","INBOX"],"snippet":"Tom &amp; Jerry &lt;b&gt;",` +
			`"historyId":"123","internalDate":"1700000000000","sizeEstimate":1024,"payload":{"headers":[` +
			`{"name":"From","value":"=?UTF-8?B?5bGx55Sw?= <taro@example.jp>"},{"name":"Subject","value":"=?UTF-8?Q?Caf=C3=A9?="},` +
			`{"name":"Date","value":"Tue, 14 Nov 2023 22:13:20 +0900"}]}}`,
		`{"id":"18c2f0a1b2c3d4e5","historyId":123,"internalDate":1700000000000}`,
		`{"id":"18c2f0a1b2c3d4e5","threadId":"t\u0000\u202e` + strings.Repeat("x", 300) + `","snippet":"\ud800 \u0007"}`,
		`{"id":"18c2f0a1b2c3d4e5","internalDate":"-1","payload":{"headers":[{"name":"date","value":"not a date"}]}}`,
		`{"id":"18c2f0a1b2c3d4e5","internalDate":"99999999999999999999"}`,
		`{"id":"someone-else"}`,
		`{"id":"18c2f0a1b2c3d4e5","payload":{"headers":null}}`,
		`{"id":"18c2f0a1b2c3d4e5","payload":{"headers":[{"name":"From","value":"\xff\xfe"}]}}`,
		`{"id":"18c2f0a1b2c3d4e5","labelIds":"UNREAD"}`,
		`{"id":`,
		`null`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var raw messageJSON
		if err := decodeJSON(body, &raw); err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("decodeJSON() err = %v; want ErrBadResponse", err)
			}
			return
		}
		msg, err := raw.message(id)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) || raw.ID == id {
				t.Fatalf("message(%q) of id %.64q: err = %v; want ErrBadResponse only for another message", id, raw.ID, err)
			}
			return
		}
		summary := summarize(msg)
		if summary.ID != id {
			t.Fatalf("Summary.ID = %q; want %q", summary.ID, id)
		}
		checkDisplayText(t, "Summary.From.Name", summary.From.Name, maxNameRunes)
		checkDisplayText(t, "Summary.From.Email", summary.From.Email, maxEmailRunes)
		checkDisplayText(t, "Summary.Subject", summary.Subject, maxSubjectRunes)
		checkDisplayText(t, "Summary.Snippet", summary.Snippet, maxSnippetRunes)
		if summary.ThreadID != "" && !validMessageID(summary.ThreadID) {
			t.Fatalf("Summary.ThreadID = %.100q; want Gmail's ID form or empty", summary.ThreadID)
		}
		for _, text := range []string{summary.Subject, summary.Snippet, summary.From.Name} {
			if strings.ContainsFunc(text, mustVanish) {
				t.Fatalf("summary text %.100q has a bidirectional or invisible character; want none", text)
			}
		}
	})
}

// TestHostileThreadIDIsDropped is the regression test for what
// FuzzMessageJSON found: a thread ID was passed on as the server sent it,
// unbounded and unprintable, to the page and the cache.
func TestHostileThreadIDIsDropped(t *testing.T) {
	const id = "18c2f0a1b2c3d4e5"
	tests := []struct {
		name, threadID, want string
	}{
		{"Gmail's form", "18c2f0a1b2c3d4e5", "18c2f0a1b2c3d4e5"},
		{"none", "", ""},
		{"control and bidirectional characters", "t\x00\u202e1", ""},
		{"longer than any ID", strings.Repeat("a", maxMessageIDLength+1), ""},
		{"markup", "<b>x</b>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := json.Marshal(map[string]any{
				"id":       id,
				"threadId": tt.threadID,
				"messages": []any{map[string]string{"id": id, "threadId": tt.threadID}},
			})
			if err != nil {
				t.Fatal(err)
			}
			var raw messageJSON
			if err := decodeJSON(body, &raw); err != nil {
				t.Fatal(err)
			}
			msg, err := raw.message(id)
			if err != nil || msg.ThreadID != tt.want {
				t.Errorf("message() ThreadID = %q, %v; want %q", msg.ThreadID, err, tt.want)
			}

			gmail := newHostileGmail(t).script("list", jsonResponse(string(body)))
			client, _ := gmail.client(t, Config{})
			list, err := client.listUnread(t.Context(), client.newSemaphore(), "", 50)
			if err != nil || len(list.Messages) != 1 || list.Messages[0].ThreadID != tt.want {
				t.Errorf("listUnread() = %+v, %v; want one message with ThreadID %q", list.Messages, err, tt.want)
			}
		})
	}
}
