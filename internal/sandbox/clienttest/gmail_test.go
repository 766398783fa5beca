package clienttest

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"testing"

	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

const hanako = "hanako.yamada@example.jp"

// TestGooglesGoClient drives the standalone sandbox, with its defaults, as
// a Go program written against Google does: x/oauth2 for the sign-in,
// google.golang.org/api/gmail/v1 for the mail, nothing changed but the
// endpoints.
func TestGooglesGoClient(t *testing.T) {
	sb := startSandbox(t, "-auto-approve", hanako)
	config := sb.config(gmail.GmailReadonlyScope, gmail.GmailModifyScope)
	token := sb.signIn(t, config)
	if token.RefreshToken == "" {
		t.Error("the first offline grant gave no refresh token")
	}
	ctx := t.Context()
	service, err := gmail.NewService(ctx, option.WithEndpoint(sb.base+"/"), option.WithHTTPClient(config.Client(ctx, token)))
	if err != nil {
		t.Fatal(err)
	}
	users := service.Users

	profile, err := users.GetProfile("me").Do()
	if err != nil || profile.EmailAddress != hanako || profile.MessagesTotal == 0 {
		t.Fatalf("users.getProfile = %+v, %v; want %s's profile", profile, err, hanako)
	}

	var unread []*gmail.Message
	err = users.Messages.List("me").Q("is:unread").MaxResults(20).Pages(ctx, func(page *gmail.ListMessagesResponse) error {
		unread = append(unread, page.Messages...)
		return nil
	})
	if err != nil || len(unread) != 75 {
		t.Fatalf("messages.list q=is:unread, every page = %d messages, %v; want 75", len(unread), err)
	}
	fromSato, err := users.Messages.List("me").Q("is:unread from:ken.sato").Do()
	if err != nil || len(fromSato.Messages) != 1 {
		t.Errorf("messages.list q=is:unread from:ken.sato = %+v, %v; want one message", fromSato, err)
	}

	first := unread[0].Id
	partial, err := users.Messages.Get("me", first).Format("metadata").MetadataHeaders("Subject").Fields("id", "payload/headers").Do()
	if err != nil || partial.Id != first || partial.Snippet != "" || partial.Payload == nil || len(partial.Payload.Headers) != 1 {
		t.Errorf("messages.get with fields=id,payload/headers = %+v, %v; want the ID and the Subject header alone", partial, err)
	}

	labels, err := users.Labels.List("me").Do()
	if err != nil || !slices.ContainsFunc(labels.Labels, func(l *gmail.Label) bool { return l.Id == "INBOX" }) {
		t.Errorf("labels.list = %+v, %v; want INBOX among them", labels, err)
	}
	unreadLabel, err := users.Labels.Get("me", "UNREAD").Do()
	if err != nil || unreadLabel.MessagesUnread != 76 { // the 75, and the spam
		t.Errorf("labels.get UNREAD = %+v, %v; want 76 unread, the spam among them", unreadLabel, err)
	}

	threads, err := users.Threads.List("me").Q("subject:打ち合わせ").Do()
	if err != nil || len(threads.Threads) != 1 {
		t.Fatalf("threads.list = %+v, %v; want the meeting's thread", threads, err)
	}
	thread, err := users.Threads.Get("me", threads.Threads[0].Id).Format("minimal").Do()
	if err != nil || len(thread.Messages) != 3 {
		t.Errorf("threads.get = %+v, %v; want its 3 messages", thread, err)
	}

	start := profile.HistoryId
	if _, err := users.Messages.Modify("me", first, &gmail.ModifyMessageRequest{RemoveLabelIds: []string{"UNREAD"}}).Do(); err != nil {
		t.Fatalf("messages.modify: %v", err)
	}
	raw := base64.URLEncoding.EncodeToString([]byte("From: Test <test@example.com>\r\nTo: " + hanako + "\r\nSubject: From the Go client\r\n\r\nHello.\r\n"))
	inserted, err := users.Messages.Insert("me", &gmail.Message{Raw: raw, LabelIds: []string{"INBOX", "UNREAD"}}).Do()
	if err != nil {
		t.Fatalf("messages.insert: %v", err)
	}
	history, err := users.History.List("me").StartHistoryId(start).Do()
	if err != nil || len(history.History) != 2 || history.HistoryId <= start {
		t.Fatalf("history.list after a modify and an insert = %+v, %v; want two records and a later historyId", history, err)
	}
	if added := history.History[1].MessagesAdded; len(added) != 1 || added[0].Message.Id != inserted.Id {
		t.Errorf("history's second record = %+v; want the insert of %s", history.History[1], inserted.Id)
	}

	_, err = users.Messages.Get("me", "ffffffffffffffff").Do()
	if apiErr := (*googleapi.Error)(nil); !errors.As(err, &apiErr) || apiErr.Code != http.StatusBadRequest || apiErr.Message != "Invalid id value" {
		t.Errorf("messages.get of an ID out of range: %v; want 400 Invalid id value", err)
	}
}

// TestGooglesGoClientWithAReadOnlyToken: a write method called with a
// read-only token is Gmail's 403 insufficientPermissions.
func TestGooglesGoClientWithAReadOnlyToken(t *testing.T) {
	sb := startSandbox(t, "-auto-approve", hanako)
	config := sb.config(gmail.GmailReadonlyScope)
	ctx := t.Context()
	service, err := gmail.NewService(ctx, option.WithEndpoint(sb.base+"/"), option.WithHTTPClient(config.Client(ctx, sb.signIn(t, config))))
	if err != nil {
		t.Fatal(err)
	}
	list, err := service.Users.Messages.List("me").MaxResults(1).Do()
	if err != nil || len(list.Messages) != 1 {
		t.Fatalf("messages.list = %+v, %v", list, err)
	}
	_, err = service.Users.Messages.Modify("me", list.Messages[0].Id, &gmail.ModifyMessageRequest{RemoveLabelIds: []string{"UNREAD"}}).Do()
	apiErr := (*googleapi.Error)(nil)
	if !errors.As(err, &apiErr) || apiErr.Code != http.StatusForbidden || len(apiErr.Errors) == 0 || apiErr.Errors[0].Reason != "insufficientPermissions" {
		t.Errorf("messages.modify with gmail.readonly: %v; want 403 insufficientPermissions", err)
	}
}
