package sandbox_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"gmailoauth/internal/sandbox"
)

// insert posts raw to messages.insert with the JSON fields of extra and
// the query, and returns the new message's ID and thread ID.
func insert(t *testing.T, f *fixture, token, query, raw string, extra map[string]any) messageResource {
	t.Helper()
	request := map[string]any{"raw": base64.URLEncoding.EncodeToString([]byte(raw)), "labelIds": []string{"INBOX"}}
	for name, value := range extra {
		request[name] = value
	}
	body, err := json.Marshal(request)
	if err != nil {
		t.Fatal(err)
	}
	var m messageResource
	post(t, f, token, listPath+query, string(body)).decode(t, &m)
	return m
}

// TestInsertedReplyJoinsItsThread follows Google's "Manage threads" guide
// (developers.google.com/gmail/api/guides/threads, "Adding drafts and
// messages to threads"): a message inserted with a threadId joins that
// thread when its References and In-Reply-To headers are set and its
// Subject matches; without any one of the three it starts a thread of its
// own.
func TestInsertedReplyJoinsItsThread(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako, sandbox.GmailModifyScope).AccessToken
	kickoff := f.search(t, token, `subject:"Project kickoff"`)
	if len(kickoff) == 0 {
		t.Fatal("the seeded kickoff thread is missing")
	}
	first := f.getMessage(t, token, kickoff[len(kickoff)-1].id, "metadata")
	threadID := first.ThreadID
	messageID, _ := first.header("Message-ID")
	reply := func(subject string, threading bool) string {
		raw := "From: Hanako <hanako.yamada@example.jp>\r\nTo: jordan.lee@example.com\r\nSubject: " + subject + "\r\n"
		if threading {
			raw += "In-Reply-To: " + messageID + "\r\nReferences: " + messageID + "\r\n"
		}
		return raw + "\r\nSee you on Monday.\r\n"
	}
	for _, tt := range []struct {
		name, raw string
		joins     bool
	}{
		{"a reply with both headers and the subject", reply("Re: Project kickoff", true), true},
		{"the subject without Re:", reply("Project kickoff", true), true},
		{"no In-Reply-To or References", reply("Re: Project kickoff", false), false},
		{"another subject", reply("Re: Something else", true), false},
	} {
		m := insert(t, f, token, "", tt.raw, map[string]any{"threadId": threadID})
		if joined := m.ThreadID == threadID; joined != tt.joins {
			t.Errorf("%s: inserted with threadId %s got threadId %s; want joined = %v", tt.name, threadID, m.ThreadID, tt.joins)
		}
		if !tt.joins && m.ThreadID != m.ID {
			t.Errorf("%s: threadId %s; want a thread of its own, %s", tt.name, m.ThreadID, m.ID)
		}
	}
	var thread struct{ Messages []messageResource }
	f.gmail(t, token, "/gmail/v1/users/me/threads/"+threadID+"?format=minimal").decode(t, &thread)
	if len(thread.Messages) != len(kickoff)+2 {
		t.Errorf("threads.get of the kickoff thread = %d messages; want the seeded %d and the two replies", len(thread.Messages), len(kickoff))
	}
}

// TestInsertedOldMessageListsByItsDate: internalDate "determines ordering
// in the inbox" (the Message resource's reference), and with
// internalDateSource=dateHeader an inserted message takes its Date header's
// time, so a message from 2019 lists below everything newer.
func TestInsertedOldMessageListsByItsDate(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako, sandbox.GmailModifyScope).AccessToken
	m := insert(t, f, token, "?internalDateSource=dateHeader",
		"From: Archive <archive@example.com>\r\nDate: Tue, 1 Jan 2019 09:00:00 +0000\r\nSubject: From the archive\r\n\r\nOld mail.\r\n", nil)
	if want := strconv.FormatInt(1546333200000, 10); m.InternalDate != want {
		t.Fatalf("internalDate = %s; want %s, the Date header's", m.InternalDate, want)
	}
	ids := f.listAll(t, token, "maxResults=500&includeSpamTrash=true")
	at := slices.Index(ids, m.ID)
	if at < 0 {
		t.Fatal("the inserted message is not listed")
	}
	if at == 0 {
		t.Fatal("the message from 2019 is listed first; want it below newer mail")
	}
	inserted, _ := strconv.ParseInt(m.InternalDate, 10, 64)
	for _, neighbour := range []struct {
		index int
		newer bool
	}{{at - 1, true}, {at + 1, false}} {
		if neighbour.index >= len(ids) {
			continue
		}
		other := f.getMessage(t, token, ids[neighbour.index], "minimal")
		date, _ := strconv.ParseInt(other.InternalDate, 10, 64)
		if neighbour.newer && date < inserted || !neighbour.newer && date > inserted {
			t.Errorf("message %s (internalDate %d) lists next to the inserted one (%d) on the wrong side", other.ID, date, inserted)
		}
	}
}

// TestInsertedMailIsDecoded: an inserted message's headers are shown decoded
// from RFC 2047 encoded words (RFC 2047 §6, as the seeded mail is), its
// snippet comes from its text decoded from its charset (RFC 2046 §4.1.2),
// and search finds it by the decoded words.
func TestInsertedMailIsDecoded(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako, sandbox.GmailModifyScope).AccessToken
	raw := "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= <taro@example.jp>\r\n" +
		"Subject: =?UTF-8?B?5peF6KGM44Gu5YaZ55yf?=\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=ISO-2022-JP\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n\r\n" +
		"\x1b$B$3$s$K$A$O\x1b(B\r\n"
	m := insert(t, f, token, "", raw, nil)
	got := f.getMessage(t, token, m.ID, "metadata")
	if subject, _ := got.header("Subject"); subject != "旅行の写真" {
		t.Errorf("Subject = %q; want 旅行の写真, decoded", subject)
	}
	if from, _ := got.header("From"); from != "山田 太郎 <taro@example.jp>" {
		t.Errorf("From = %q; want 山田 太郎 <taro@example.jp>, decoded from ISO-2022-JP", from)
	}
	if got.Snippet != "こんにちは" {
		t.Errorf("snippet = %q; want こんにちは, the text decoded from ISO-2022-JP", got.Snippet)
	}
	if got.SizeEstimate != len(raw) {
		t.Errorf("sizeEstimate = %d; want %d, the message's size", got.SizeEstimate, len(raw))
	}
	for _, q := range []string{"subject:旅行の写真", "こんにちは"} {
		if ids := f.listAll(t, token, "q="+url.QueryEscape(q)); !slices.Contains(ids, m.ID) {
			t.Errorf("search %q = %v; want the inserted message among them", q, ids)
		}
	}
}

// TestInsertReadsPartsToABoundedDepth: the sandbox follows multipart parts
// inside multipart parts 16 deep, a bound of its own (real mail nests two
// or three deep) so that a message of nothing but nested boundaries costs
// no more to read than its size: text nested deeper is not read.
func TestInsertReadsPartsToABoundedDepth(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako, sandbox.GmailModifyScope).AccessToken
	nested := func(depth int) string {
		raw := "Subject: Nested\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
		for i := 1; i < depth; i++ {
			raw += "--b" + strconv.Itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\r\n\r\n"
		}
		raw += "--b" + strconv.Itoa(depth-1) + "\r\nContent-Type: text/plain\r\n\r\nDeep text\r\n"
		for i := depth - 1; i >= 0; i-- {
			raw += "--b" + strconv.Itoa(i) + "--\r\n"
		}
		return raw
	}
	for _, tt := range []struct {
		depth   int
		snippet string
	}{{3, "Deep text"}, {16, "Deep text"}, {17, ""}, {200, ""}} {
		m := insert(t, f, token, "", nested(tt.depth), nil)
		if got := f.getMessage(t, token, m.ID, "minimal").Snippet; got != tt.snippet {
			t.Errorf("text %d multipart levels deep: snippet %q; want %q", tt.depth, got, tt.snippet)
		}
	}
}
