package sandbox_test

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/sandbox"
)

type label struct {
	ID                                                         string
	Name                                                       string
	Type                                                       string
	MessagesTotal, MessagesUnread, ThreadsTotal, ThreadsUnread int
}

// TestLabelCountsAgreeWithTheMailbox: labels.get's counts are what lists
// of the label find, and follow the mailbox as it changes.
func TestLabelCountsAgreeWithTheMailbox(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	var list struct{ Labels []label }
	f.gmail(t, token, "/gmail/v1/users/me/labels").decode(t, &list)
	var ids []string
	for _, l := range list.Labels {
		ids = append(ids, l.ID)
		if l.Name != l.ID || l.Type != "system" || l.MessagesTotal != 0 {
			t.Errorf("labels.list entry %+v; want a system label named as its ID, without counts", l)
		}
	}
	for _, want := range []string{"INBOX", "UNREAD", "STARRED", "IMPORTANT", "SPAM", "TRASH", "SENT", "CATEGORY_PERSONAL"} {
		if !slices.Contains(ids, want) {
			t.Errorf("labels.list lacks %s", want)
		}
	}
	get := func(id string) label {
		t.Helper()
		var l label
		resp := f.gmail(t, token, "/gmail/v1/users/me/labels/"+id)
		wantStatus(t, resp, http.StatusOK)
		resp.decode(t, &l)
		return l
	}
	count := func(path, query string) int {
		t.Helper()
		var page struct{ ResultSizeEstimate int }
		f.gmail(t, token, path+"?maxResults=500&includeSpamTrash=true&"+query).decode(t, &page)
		return page.ResultSizeEstimate
	}
	for _, id := range []string{"INBOX", "UNREAD", "IMPORTANT", "CATEGORY_UPDATES", "SPAM"} {
		l := get(id)
		want := label{ID: id, Name: id, Type: "system",
			MessagesTotal:  count(listPath, "labelIds="+id),
			MessagesUnread: count(listPath, "labelIds="+id+"&labelIds=UNREAD"),
			ThreadsTotal:   count("/gmail/v1/users/me/threads", "labelIds="+id),
			ThreadsUnread:  count("/gmail/v1/users/me/threads", "labelIds="+id+"&labelIds=UNREAD"),
		}
		if l != want || l.MessagesTotal == 0 {
			t.Errorf("labels.get(%s) = %+v; want %+v, as the lists find", id, l, want)
		}
	}
	before := get("INBOX")
	id := f.sandbox.Deliver(hanako, sandbox.Delivery{Subject: "New"})
	f.sandbox.MarkRead(hanako, f.listAll(t, token, "q=is:unread")[1])
	after := get("INBOX")
	if after.MessagesTotal != before.MessagesTotal+1 || after.MessagesUnread != before.MessagesUnread {
		t.Errorf("INBOX after one delivery and one read = %+v; before %+v", after, before)
	}
	if got := f.gmail(t, token, "/gmail/v1/users/me/labels/NO_SUCH_LABEL").status; got != http.StatusNotFound {
		t.Errorf("labels.get of an unknown label = %d; want 404", got)
	}
	if !slices.Contains(f.listAll(t, token, "q=is:unread"), id) {
		t.Error("the delivered message is not among the unread")
	}
}

// TestThreads: threads.list groups the messages found by thread, newest
// first; threads.get gives a thread's messages, oldest first.
func TestThreads(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	var list struct {
		Threads []struct{ ID, Snippet, HistoryID string }
	}
	resp := f.gmail(t, token, "/gmail/v1/users/me/threads?q="+url.QueryEscape("subject:打ち合わせ"))
	wantStatus(t, resp, http.StatusOK)
	resp.decode(t, &list)
	if len(list.Threads) != 1 {
		t.Fatalf("threads.list of the meeting's subject = %+v; want its one thread", list.Threads)
	}
	var thread struct {
		ID       string
		Messages []messageResource
	}
	resp = f.gmail(t, token, "/gmail/v1/users/me/threads/"+list.Threads[0].ID+"?format=metadata&metadataHeaders=Subject")
	wantStatus(t, resp, http.StatusOK)
	resp.decode(t, &thread)
	if len(thread.Messages) != 3 {
		t.Fatalf("threads.get = %d messages; want the meeting's 3", len(thread.Messages))
	}
	for i, m := range thread.Messages {
		if m.ThreadID != thread.ID {
			t.Errorf("message %d of the thread has threadId %s; want %s", i, m.ThreadID, thread.ID)
		}
		if i > 0 && m.InternalDate < thread.Messages[i-1].InternalDate {
			t.Errorf("threads.get messages are not oldest first")
		}
	}
	if last := thread.Messages[2]; list.Threads[0].Snippet != last.Snippet {
		t.Errorf("threads.list snippet %q; want the newest message's, %q", list.Threads[0].Snippet, last.Snippet)
	}
	for id, want := range map[string]int{"7fffffffffff0000": http.StatusNotFound, "ffffffffffffffff": http.StatusBadRequest} {
		if got := f.gmail(t, token, "/gmail/v1/users/me/threads/"+id).status; got != want {
			t.Errorf("threads.get %s = %d; want %d", id, got, want)
		}
	}
}

type historyPage struct {
	History []struct {
		ID            string
		MessagesAdded []struct {
			Message struct{ ID string }
		}
		LabelsRemoved []struct {
			Message  struct{ ID string }
			LabelIDs []string
		}
		LabelsAdded []struct {
			Message  struct{ ID string }
			LabelIDs []string
		}
	}
	HistoryID string
}

// TestHistoryFollowsTheMailbox: after the profile's historyId, history.list
// reports a delivery, a message read (MarkRead, and messages.modify) and
// an insert, each with a historyId larger than the one before.
func TestHistoryFollowsTheMailbox(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako, sandbox.GmailScope, sandbox.GmailModifyScope).AccessToken
	var profile struct{ HistoryID string }
	f.gmail(t, token, "/gmail/v1/users/me/profile").decode(t, &profile)
	start := profile.HistoryID
	history := func(query string) historyPage {
		t.Helper()
		resp := f.gmail(t, token, "/gmail/v1/users/me/history?startHistoryId="+start+query)
		wantStatus(t, resp, http.StatusOK)
		var page historyPage
		resp.decode(t, &page)
		return page
	}
	if page := history(""); len(page.History) != 0 || page.HistoryID != start {
		t.Fatalf("history since the profile's historyId, nothing changed = %+v; want none, at %s", page, start)
	}

	delivered := f.sandbox.Deliver(hanako, sandbox.Delivery{From: "Test <test@example.com>", Subject: "Hello", Text: "Hi"})
	read := f.listAll(t, token, "q=is:unread")[3]
	f.sandbox.MarkRead(hanako, read)
	modified := f.listAll(t, token, "q=is:unread")[4]
	post(t, f, token, listPath+"/"+modified+"/modify", `{"removeLabelIds":["UNREAD"],"addLabelIds":["STARRED"]}`)
	raw := base64.URLEncoding.EncodeToString([]byte("From: Test <test@example.com>\r\nTo: hanako.yamada@example.jp\r\nSubject: Inserted\r\n\r\nInserted through the API.\r\n"))
	var inserted struct{ ID string }
	post(t, f, token, listPath, `{"raw":"`+raw+`","labelIds":["INBOX","UNREAD"]}`).decode(t, &inserted)

	page := history("")
	if len(page.History) != 4 {
		t.Fatalf("history after four changes = %+v; want four records", page.History)
	}
	previous, _ := strconv.ParseUint(start, 10, 64)
	for _, h := range page.History {
		id, _ := strconv.ParseUint(h.ID, 10, 64)
		if id <= previous {
			t.Errorf("history record %s comes after %d; want its id larger", h.ID, previous)
		}
		previous = id
	}
	if page.HistoryID != strconv.FormatUint(previous, 10) {
		t.Errorf("historyId = %s; want the last change's, %d", page.HistoryID, previous)
	}
	h := page.History
	if len(h[0].MessagesAdded) != 1 || h[0].MessagesAdded[0].Message.ID != delivered {
		t.Errorf("first record = %+v; want the delivery of %s", h[0], delivered)
	}
	if len(h[1].LabelsRemoved) != 1 || h[1].LabelsRemoved[0].Message.ID != read || !slices.Equal(h[1].LabelsRemoved[0].LabelIDs, []string{"UNREAD"}) {
		t.Errorf("second record = %+v; want UNREAD removed from %s", h[1], read)
	}
	if len(h[2].LabelsRemoved) != 1 || len(h[2].LabelsAdded) != 1 || h[2].LabelsAdded[0].Message.ID != modified {
		t.Errorf("third record = %+v; want STARRED added to and UNREAD removed from %s", h[2], modified)
	}
	if len(h[3].MessagesAdded) != 1 || h[3].MessagesAdded[0].Message.ID != inserted.ID {
		t.Errorf("fourth record = %+v; want the insert of %s", h[3], inserted.ID)
	}
	if got := len(history("&historyTypes=labelRemoved").History); got != 2 {
		t.Errorf("history of labelRemoved alone = %d records; want 2", got)
	}
	var subject string
	for _, m := range f.search(t, token, "is:unread subject:Inserted") {
		subject = m.subject
	}
	if subject != "Inserted" {
		t.Error("the inserted message is not found by its subject among the unread")
	}
	if got := f.gmail(t, token, "/gmail/v1/users/me/history?startHistoryId=1").status; got != http.StatusNotFound {
		t.Errorf("history from before anything the mailbox remembers = %d; want 404", got)
	}
}

// post sends an authenticated JSON POST to a Gmail path and wants 200.
func post(t *testing.T, f *fixture, token, path, body string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp := f.do(t, req)
	wantStatus(t, resp, http.StatusOK)
	return resp
}

// TestPartialResponses: fields keeps what it names, in Google's syntax, on
// every method (fields_test.go has the selections Google refuses).
func TestPartialResponses(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	id := f.listAll(t, token, "")[0]
	for _, tt := range []struct {
		path string
		want string // the body's JSON, compact
	}{
		{path: listPath + "?maxResults=1&fields=" + url.QueryEscape("messages(id)"), want: `{"messages":[{"id":"` + id + `"}]}`},
		{path: listPath + "/" + id + "?format=metadata&metadataHeaders=Subject&fields=" + url.QueryEscape("id,payload/headers/name"),
			want: `{"id":"` + id + `","payload":{"headers":[{"name":"Subject"}]}}`},
		{path: "/gmail/v1/users/me/profile?fields=emailAddress", want: `{"emailAddress":"` + hanako + `"}`},
		{path: "/gmail/v1/users/me/labels/INBOX?fields=" + url.QueryEscape("id,name"), want: `{"id":"INBOX","name":"INBOX"}`},
	} {
		resp := f.gmail(t, token, tt.path+"&prettyPrint=false")
		wantStatus(t, resp, http.StatusOK)
		if got := strings.TrimSpace(string(resp.body)); got != tt.want {
			t.Errorf("GET %s = %s; want %s", tt.path, got, tt.want)
		}
	}
	var whole map[string]any
	f.gmail(t, token, "/gmail/v1/users/me/profile?fields=*").decode(t, &whole)
	if len(whole) != 4 {
		t.Errorf("fields=* kept %v; want every field of the profile", whole)
	}
}

// TestEveryGmailCallIsLogged: one line per call, with its method, path,
// status and quota units, a batch's parts included.
func TestEveryGmailCallIsLogged(t *testing.T) {
	var logs apptest.LogBuffer
	f := newFixture(t, func(o *sandbox.Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	token := f.sandbox.IssueToken(hanako).AccessToken
	f.gmail(t, token, listPath+"?maxResults=1")
	f.gmail(t, token, "/gmail/v1/users/me/threads/ffffffffffffffff")
	for _, want := range []string{
		`method=gmail.users.messages.list http=GET path=/gmail/v1/users/me/messages status=200 quota_units=5`,
		`method=gmail.users.threads.get http=GET path=/gmail/v1/users/me/threads/ffffffffffffffff status=400 quota_units=10`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// TestHistoryPagesWithTheSameQuery: Google's client libraries page by
// sending the same query again with pageToken set to the last
// nextPageToken (google-api-go-client's UsersHistoryListCall.Pages, and
// "Paginate through results" in Gmail's history guide); every page answers
// and the pages together hold each change once.
func TestHistoryPagesWithTheSameQuery(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako).AccessToken
	var profile struct{ HistoryID string }
	f.gmail(t, token, profilePath).decode(t, &profile)
	var want []string
	for i := range 5 {
		want = append(want, f.sandbox.Deliver(hanako, sandbox.Delivery{Subject: "Change " + strconv.Itoa(i)}))
	}
	query := "/gmail/v1/users/me/history?startHistoryId=" + profile.HistoryID + "&maxResults=2&historyTypes=messageAdded"
	var got []string
	pageToken := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("history pages never end")
		}
		path := query
		if pageToken != "" {
			path += "&pageToken=" + url.QueryEscape(pageToken)
		}
		resp := f.gmail(t, token, path)
		wantStatus(t, resp, http.StatusOK)
		var body struct {
			historyPage
			NextPageToken string
		}
		resp.decode(t, &body)
		for _, h := range body.History {
			for _, added := range h.MessagesAdded {
				got = append(got, added.Message.ID)
			}
		}
		if body.NextPageToken == "" {
			break
		}
		pageToken = body.NextPageToken
	}
	if !slices.Equal(got, want) {
		t.Errorf("history pages hold %v; want each delivery once, in order: %v", got, want)
	}
	resp := f.gmail(t, token, "/gmail/v1/users/me/history?startHistoryId="+profile.HistoryID+"&maxResults=2&pageToken="+url.QueryEscape(pageToken+"0"))
	wantGoogleError(t, "history with a made-up pageToken", resp, http.StatusBadRequest, "INVALID_ARGUMENT", "invalidArgument")
}
