package sandbox_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gmailoauth/internal/sandbox"
)

// wantInvalidFieldSelection checks Google's answer to a fields parameter it
// cannot use: 400, reason invalidParameter at the fields parameter, with a
// message that starts "Invalid field selection", as Google's APIs answer a
// partial-response request naming a field the resource lacks (the error
// shape of "Global domain errors", developers.google.com/youtube/v3/docs/core_errors:
// invalidParameter with location and locationType).
func wantInvalidFieldSelection(t *testing.T, what string, resp response) {
	t.Helper()
	wantGoogleError(t, what, resp, http.StatusBadRequest, "INVALID_ARGUMENT", "invalidParameter")
	var body googleError
	resp.decode(t, &body)
	if len(body.Error.Errors) == 1 {
		item := body.Error.Errors[0]
		if !strings.HasPrefix(body.Error.Message, "Invalid field selection") || item.Location != "fields" || item.LocationType != "parameter" {
			t.Errorf("%s error = %+v; want \"Invalid field selection …\" at the fields parameter", what, body.Error)
		}
	}
}

// TestUnknownFieldsAreRefused: Google checks a field selection against the
// method's response schema and answers 400 "Invalid field selection" for a
// name the resource does not have, at any depth; a name it has is fine
// even when this answer leaves it out (nextPageToken on the last page).
func TestUnknownFieldsAreRefused(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	id := f.listAll(t, token, "")[0]
	for _, path := range []string{
		listPath + "?fields=nosuchfield",
		listPath + "?fields=" + url.QueryEscape("messages(nosuch)"),
		listPath + "?fields=" + url.QueryEscape("messages/id/deeper"),
		listPath + "/" + id + "?fields=" + url.QueryEscape("payload/headers/nosuch"),
		listPath + "/" + id + "?fields=" + url.QueryEscape("id(name)"),
		profilePath + "?fields=" + url.QueryEscape("*/x"),
		"/gmail/v1/users/me/labels/INBOX?fields=messages",
		"/gmail/v1/users/me/history?startHistoryId=1&fields=nosuch",
	} {
		wantInvalidFieldSelection(t, "GET "+path, f.gmail(t, token, path))
	}
	resp := f.gmail(t, token, listPath+"?q=nosuchwordanywhere&fields=nextPageToken,messages/id&prettyPrint=false")
	wantStatus(t, resp, http.StatusOK)
	if got := strings.TrimSpace(string(resp.body)); got != "{}" {
		t.Errorf("fields naming fields an empty list leaves out = %s; want {}", got)
	}
	resp = f.gmail(t, token, listPath+"/"+id+"?fields="+url.QueryEscape("payload/parts/parts/body/size,payload/mimeType")+"&prettyPrint=false")
	wantStatus(t, resp, http.StatusOK)
}

// TestMalformedAndOversizedFieldsAreRefused: a field selection Google cannot
// parse, or one deeper or longer than the sandbox parses, is 400 before any
// work; an 18 KB nested selection once froze a mailbox for 8 seconds.
func TestMalformedAndOversizedFieldsAreRefused(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	deep := strings.Repeat("payload(parts(", 40) + "mimeType" + strings.Repeat("))", 40)
	nested := strings.Repeat("messages(", 2000) + "id" + strings.Repeat(")", 2000)
	long := "messages(id" + strings.Repeat(",id", 5000) + ")"
	for _, bad := range []string{"messages(id", "a,,b", "a/", "(id)", "id)", "mess*ges", deep, nested, long} {
		resp := f.gmail(t, token, listPath+"?fields="+url.QueryEscape(bad))
		wantInvalidFieldSelection(t, "fields="+bad[:min(len(bad), 40)], resp)
	}
}

// TestWildcardWithASubselectionIsStable: "*" keeps every field whole, and a
// narrower selection of one of them beside it narrows nothing, the union
// Google's partial responses make; the answer is the same on every call.
func TestWildcardWithASubselectionIsStable(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	whole := f.gmail(t, token, listPath+"?maxResults=3&fields=*&prettyPrint=false")
	wantStatus(t, whole, http.StatusOK)
	if !strings.Contains(string(whole.body), `"threadId"`) {
		t.Fatalf("fields=* = %s; want whole messages", whole.body)
	}
	for range 20 {
		resp := f.gmail(t, token, listPath+"?maxResults=3&fields="+url.QueryEscape("*,messages(id)")+"&prettyPrint=false")
		wantStatus(t, resp, http.StatusOK)
		if string(resp.body) != string(whole.body) {
			t.Fatalf("fields=*,messages(id) = %s; want what fields=* gives, %s", resp.body, whole.body)
		}
	}
}

// TestWritesWithBadParametersChangeNothing: a write Google refuses with 400
// has not happened, so a client may fix the request and send it again; the
// sandbox checks every parameter, fields included, before changing the
// mailbox.
func TestWritesWithBadParametersChangeNothing(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako, sandbox.GmailModifyScope).AccessToken
	var before struct{ MessagesTotal int }
	f.gmail(t, token, profilePath).decode(t, &before)
	unread := f.listAll(t, token, "q=is:unread")[0]
	raw := base64.URLEncoding.EncodeToString([]byte("From: a@example.com\r\nSubject: Twice?\r\n\r\nOnce only.\r\n"))
	for _, tt := range []struct{ path, body string }{
		{listPath + "/" + unread + "/modify?fields=" + url.QueryEscape("id("), `{"removeLabelIds":["UNREAD"]}`},
		{listPath + "/" + unread + "/modify?fields=nosuch", `{"removeLabelIds":["UNREAD"]}`},
		{listPath + "?fields=" + url.QueryEscape("id,,threadId"), `{"raw":"` + raw + `"}`},
		{listPath + "?fields=nosuch", `{"raw":"` + raw + `"}`},
		{listPath + "?internalDateSource=yesterday", `{"raw":"` + raw + `"}`},
		{listPath + "?deleted=perhaps", `{"raw":"` + raw + `"}`},
	} {
		req, err := http.NewRequest(http.MethodPost, f.url+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if resp := f.do(t, req); resp.status != http.StatusBadRequest {
			t.Errorf("POST %s = %d; want 400\n%s", tt.path, resp.status, resp.body)
		}
	}
	var after struct{ MessagesTotal int }
	f.gmail(t, token, profilePath).decode(t, &after)
	if after.MessagesTotal != before.MessagesTotal {
		t.Errorf("messagesTotal after refused inserts = %d; want %d, unchanged", after.MessagesTotal, before.MessagesTotal)
	}
	if m := f.getMessage(t, token, unread, "minimal"); !strings.Contains(strings.Join(m.LabelIDs, " "), "UNREAD") {
		t.Errorf("message after refused modifies has labels %v; want UNREAD still on", m.LabelIDs)
	}
}
