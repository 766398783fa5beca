package sandbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"gmailoauth/internal/sandbox"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	hanakoTotal  = 130
	hanakoUnread = 75
	listPath     = "/gmail/v1/users/me/messages"
	profilePath  = "/gmail/v1/users/me/profile"
)

var gmailIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestGmailAuthentication(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		token      func(t *testing.T) string
		header     string // overrides the Authorization header when set
		path       string
		wantStatus int
		wantState  string
		wantReason string
		wantAuth   string // WWW-Authenticate
	}{
		{
			name: "no Authorization header", token: func(*testing.T) string { return "" }, path: listPath,
			wantStatus: http.StatusUnauthorized, wantState: "UNAUTHENTICATED", wantReason: "required",
			wantAuth: `Bearer realm="https://accounts.google.com/"`,
		},
		{
			name: "unknown token", token: func(*testing.T) string { return "ya29.sandbox.made-up" }, path: listPath,
			wantStatus: http.StatusUnauthorized, wantState: "UNAUTHENTICATED", wantReason: "authError",
			wantAuth: `Bearer realm="https://accounts.google.com/", error="invalid_token"`,
		},
		{
			name: "Basic credentials", header: "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+clientSecret)), path: listPath,
			wantStatus: http.StatusUnauthorized, wantState: "UNAUTHENTICATED", wantReason: "required",
		},
		{
			name: "refresh token used as access token", token: func(*testing.T) string { return f.sandbox.IssueToken(hanako).RefreshToken }, path: listPath,
			wantStatus: http.StatusUnauthorized, wantState: "UNAUTHENTICATED", wantReason: "authError",
		},
		{
			name: "token without the Gmail scope", token: func(*testing.T) string { return f.sandbox.IssueToken(hanako, "openid", "email").AccessToken },
			path: listPath, wantStatus: http.StatusForbidden, wantState: "PERMISSION_DENIED", wantReason: "insufficientPermissions",
		},
		{
			name: "another person's userId", token: func(*testing.T) string { return f.sandbox.IssueToken(hanako).AccessToken },
			path: "/gmail/v1/users/alex@example.com/messages", wantStatus: http.StatusForbidden, wantState: "PERMISSION_DENIED", wantReason: "forbidden",
		},
		{
			name: "own address as userId", token: func(*testing.T) string { return f.sandbox.IssueToken(hanako).AccessToken },
			path: "/gmail/v1/users/hanako.yamada@example.jp/messages", wantStatus: http.StatusOK,
		},
		{
			name: "access token in the URL as well", token: func(*testing.T) string { return f.sandbox.IssueToken(hanako).AccessToken },
			path: listPath + "?access_token=x", wantStatus: http.StatusBadRequest, wantState: "INVALID_ARGUMENT", wantReason: "invalidArgument",
		},
		{
			name: "lower-case bearer scheme", header: "bearer " + f.sandbox.IssueToken(hanako).AccessToken, path: profilePath,
			wantStatus: http.StatusOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, f.url+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.header != "":
				req.Header.Set("Authorization", tt.header)
			case tt.token(t) != "":
				req.Header.Set("Authorization", "Bearer "+tt.token(t))
			}
			resp := f.do(t, req)
			if tt.wantStatus == http.StatusOK {
				wantStatus(t, resp, http.StatusOK)
				return
			}
			wantGoogleError(t, "GET "+tt.path, resp, tt.wantStatus, tt.wantState, tt.wantReason)
			if tt.wantAuth != "" && resp.header.Get("WWW-Authenticate") != tt.wantAuth {
				t.Errorf("WWW-Authenticate = %q; want %q", resp.header.Get("WWW-Authenticate"), tt.wantAuth)
			}
		})
	}
}

func TestExpiredAccessToken(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako)
	f.clock.Advance(59 * time.Minute)
	wantStatus(t, f.gmail(t, token.AccessToken, profilePath), http.StatusOK)
	f.clock.Advance(time.Minute)
	resp := f.gmail(t, token.AccessToken, profilePath)
	wantGoogleError(t, "GET profile an hour later", resp, http.StatusUnauthorized, "UNAUTHENTICATED", "authError")
	var body googleError
	resp.decode(t, &body)
	if got := body.Error.Errors[0]; got.Message != "Invalid Credentials" || got.Location != "Authorization" || got.LocationType != "header" {
		t.Errorf("error item = %+v; want Google's Invalid Credentials in the Authorization header", got)
	}
	if !strings.HasPrefix(body.Error.Message, "Request had invalid authentication credentials. Expected OAuth 2 access token") {
		t.Errorf("message = %q; want Google's wording", body.Error.Message)
	}
}

func TestListMessagesFilters(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	readTotal := hanakoTotal - 2 - hanakoUnread // minus one spam and one trash message
	tests := []struct {
		query string
		want  int
	}{
		{"q=is:unread", hanakoUnread},
		{"q=IS:UNREAD", hanakoUnread},
		{"labelIds=UNREAD", hanakoUnread},
		{"labelIds=INBOX&labelIds=UNREAD", hanakoUnread},
		{"q=" + url.QueryEscape("in:inbox is:unread"), hanakoUnread},
		{"q=" + url.QueryEscape("is:unread from:ken.sato@example.co.jp newer_than:2d"), 1},
		{"q=" + url.QueryEscape("label:unread"), hanakoUnread},
		{"", hanakoTotal - 2},
		{"q=", hanakoTotal - 2},
		{"includeSpamTrash=true", hanakoTotal},
		{"includeSpamTrash=true&labelIds=UNREAD", hanakoUnread + 1},
		{"labelIds=SPAM", 1},
		{"q=in:trash", 1},
		{"q=is:read", readTotal},
		{"q=-is:unread", readTotal},
		{"labelIds=UNREAD&labelIds=SENT", 0},
		{"q=label:no-such-label", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			path := listPath + "?maxResults=500"
			if tt.query != "" {
				path += "&" + tt.query
			}
			resp := f.gmail(t, token, path)
			wantStatus(t, resp, http.StatusOK)
			var list listResponse
			resp.decode(t, &list)
			if len(list.Messages) != tt.want || list.ResultSizeEstimate != tt.want {
				t.Errorf("GET %s: %d messages, resultSizeEstimate %d; want %d", path, len(list.Messages), list.ResultSizeEstimate, tt.want)
			}
			if list.NextPageToken != "" {
				t.Errorf("nextPageToken = %q; want none when everything fits", list.NextPageToken)
			}
			for _, m := range list.Messages {
				if !gmailIDPattern.MatchString(m.ID) || !gmailIDPattern.MatchString(m.ThreadID) {
					t.Fatalf("message %+v; want 16 lower-case hex digit IDs", m)
				}
			}
		})
	}
	if got := f.sandbox.UnreadCount(hanako); got != hanakoUnread {
		t.Errorf("UnreadCount(%s) = %d; want %d", hanako, got, hanakoUnread)
	}
}

func TestListMessagesPagesThroughEveryUnreadMessageOnce(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken

	first := f.gmail(t, token, listPath+"?q=is:unread&maxResults=50")
	wantStatus(t, first, http.StatusOK)
	var page listResponse
	first.decode(t, &page)
	if len(page.Messages) != 50 || page.NextPageToken == "" || page.ResultSizeEstimate != hanakoUnread {
		t.Fatalf("first page: %d messages, nextPageToken %q, estimate %d; want 50, a token, %d",
			len(page.Messages), page.NextPageToken, page.ResultSizeEstimate, hanakoUnread)
	}

	ids := f.listAll(t, token, "q=is:unread&maxResults=50")
	if len(ids) != hanakoUnread {
		t.Errorf("paging at 50 found %d unread messages; want %d", len(ids), hanakoUnread)
	}
	seen := make(map[string]bool)
	for _, id := range ids {
		if seen[id] {
			t.Errorf("message %s listed twice", id)
		}
		seen[id] = true
	}
	for _, size := range []int{1, 7, 75, 500} {
		if got := f.listAll(t, token, "labelIds=UNREAD&maxResults="+strconv.Itoa(size)); !slices.Equal(got, ids) {
			t.Errorf("paging at %d gives %d IDs in another order; want the same %d", size, len(got), len(ids))
		}
	}
}

func TestListMessagesNewestFirst(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	previous := int64(1 << 62)
	for _, id := range f.listAll(t, token, "maxResults=500") {
		m := f.getMessage(t, token, id, "minimal")
		date, err := strconv.ParseInt(m.InternalDate, 10, 64)
		if err != nil {
			t.Fatalf("internalDate %q: %v", m.InternalDate, err)
		}
		if date > previous {
			t.Fatalf("message %s (internalDate %d) comes after an older one (%d)", id, date, previous)
		}
		previous = date
	}
}

func TestListMessagesRefusesBadParameters(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	var first listResponse
	f.gmail(t, token, listPath+"?q=is:unread&maxResults=10").decode(t, &first)
	tampered := []byte(first.NextPageToken)
	tampered[len(tampered)-1] = '0' + (tampered[len(tampered)-1]-'0'+1)%10

	tests := []struct {
		name  string
		query string
	}{
		{"maxResults 0", "maxResults=0"},
		{"maxResults 501", "maxResults=501"},
		{"negative maxResults", "maxResults=-1"},
		{"maxResults not a number", "maxResults=ten"},
		{"made-up pageToken", "pageToken=bogus"},
		{"tampered pageToken", "q=is:unread&maxResults=10&pageToken=" + string(tampered)},
		{"pageToken of another query", "q=is:read&maxResults=10&pageToken=" + first.NextPageToken},
		{"lower-case label ID", "labelIds=unread"},
		{"unknown label ID", "labelIds=Label_42"},
		{"misspelt parameter", "maxresults=10"},
		{"includeSpamTrash not a bool", "includeSpamTrash=yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantGoogleError(t, "GET ?"+tt.query, f.gmail(t, token, listPath+"?"+tt.query), http.StatusBadRequest, "INVALID_ARGUMENT", "invalidArgument")
		})
	}
	for _, size := range []string{"1", "500"} {
		wantStatus(t, f.gmail(t, token, listPath+"?maxResults="+size), http.StatusOK)
	}
}

func TestListEmptyResultHasNoMessagesField(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(emptyBox).AccessToken
	resp := f.gmail(t, token, listPath+"?q=is:unread")
	wantStatus(t, resp, http.StatusOK)
	var raw map[string]json.RawMessage
	resp.decode(t, &raw)
	if _, ok := raw["messages"]; ok {
		t.Errorf("empty list has a messages field:\n%s", resp.body)
	}
	if _, ok := raw["nextPageToken"]; ok {
		t.Errorf("empty list has a nextPageToken:\n%s", resp.body)
	}
	if got := string(raw["resultSizeEstimate"]); got != "0" {
		t.Errorf("resultSizeEstimate = %s; want 0", got)
	}
	if len(f.listAll(t, token, "")) == 0 {
		t.Errorf("%s has no messages at all; want some read ones", emptyBox)
	}
}

func TestGetMessageFormats(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	invoice := f.findMessage(t, token, subjectIs("【重要】11月分請求書のご案内"))
	tests := []struct {
		format      string
		wantPayload bool
		wantBody    bool
		wantRaw     bool
	}{
		{"minimal", false, false, false},
		{"metadata", true, false, false},
		{"full", true, true, false},
		{"", true, true, false},
		{"raw", false, false, true},
	}
	for _, tt := range tests {
		t.Run("format="+tt.format, func(t *testing.T) {
			m := f.getMessage(t, token, invoice.ID, tt.format)
			if m.ID != invoice.ID || m.ThreadID == "" || m.Snippet == "" || m.HistoryID == "" || m.SizeEstimate == 0 ||
				!slices.Contains(m.LabelIDs, "UNREAD") {
				t.Errorf("message = %+v; want id, threadId, labelIds, snippet, historyId, sizeEstimate", m)
			}
			if _, err := strconv.ParseInt(m.InternalDate, 10, 64); err != nil {
				t.Errorf("internalDate = %q; want a decimal string of milliseconds", m.InternalDate)
			}
			if got := m.Payload != nil; got != tt.wantPayload {
				t.Fatalf("payload present = %v; want %v", got, tt.wantPayload)
			}
			if got := m.Raw != ""; got != tt.wantRaw {
				t.Errorf("raw present = %v; want %v", got, tt.wantRaw)
			}
			if !tt.wantPayload {
				return
			}
			if m.Payload.MimeType != "multipart/alternative" || len(m.Payload.Headers) < 8 {
				t.Errorf("payload = %s with %d headers; want multipart/alternative with every header", m.Payload.MimeType, len(m.Payload.Headers))
			}
			if got := m.Payload.Body != nil || len(m.Payload.Parts) > 0; got != tt.wantBody {
				t.Errorf("payload body or parts present = %v; want %v", got, tt.wantBody)
			}
		})
	}
	t.Run("format=FULL is accepted", func(t *testing.T) {
		wantStatus(t, f.gmail(t, token, listPath+"/"+invoice.ID+"?format=FULL"), http.StatusOK)
	})
	t.Run("format=html is refused", func(t *testing.T) {
		wantGoogleError(t, "GET ?format=html", f.gmail(t, token, listPath+"/"+invoice.ID+"?format=html"),
			http.StatusBadRequest, "INVALID_ARGUMENT", "invalidArgument")
	})
}

func TestGetMessageBodies(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	decode := func(t *testing.T, data string) string {
		t.Helper()
		decoded, err := base64.URLEncoding.DecodeString(data)
		if err != nil {
			t.Fatalf("body data %q is not base64url: %v", data, err)
		}
		return string(decoded)
	}

	invoice := f.getMessage(t, token, f.findMessage(t, token, subjectIs("【重要】11月分請求書のご案内")).ID, "full")
	if len(invoice.Payload.Parts) != 2 || invoice.Payload.Parts[0].MimeType != "text/plain" || invoice.Payload.Parts[1].MimeType != "text/html" {
		t.Fatalf("invoice parts = %+v; want text/plain and text/html", invoice.Payload.Parts)
	}
	if text := decode(t, invoice.Payload.Parts[0].Body.Data); !strings.Contains(text, "11月分のご請求書") {
		t.Errorf("text part = %q; want the Japanese body", text)
	}
	if htmlPart := decode(t, invoice.Payload.Parts[1].Body.Data); !strings.Contains(htmlPart, "<br>") {
		t.Errorf("html part = %q; want HTML", htmlPart)
	}

	lunch := f.getMessage(t, token, f.findMessage(t, token, subjectIs("Lunch tomorrow?")).ID, "full")
	if lunch.Payload.MimeType != "text/plain" || lunch.Payload.Body == nil || len(lunch.Payload.Parts) != 0 {
		t.Fatalf("single-part payload = %+v; want text/plain with a body and no parts", lunch.Payload)
	}
	if text := decode(t, lunch.Payload.Body.Data); !strings.HasPrefix(text, `Shall we meet at "Café Bleu"`) {
		t.Errorf("body = %q; want the unescaped text", text)
	}

	raw := f.getMessage(t, token, invoice.ID, "raw")
	rawBytes, err := base64.URLEncoding.DecodeString(raw.Raw)
	if err != nil {
		t.Fatalf("raw is not base64url: %v", err)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(rawBytes))
	if err != nil {
		t.Fatalf("raw is not an RFC 5322 message: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil || subject != "【重要】11月分請求書のご案内" {
		t.Errorf("raw Subject decodes to %q (%v); want the Japanese subject", subject, err)
	}
	if raw.SizeEstimate != len(rawBytes) {
		t.Errorf("sizeEstimate = %d; want the raw size %d", raw.SizeEstimate, len(rawBytes))
	}
}

func TestGetMessageMetadataHeaders(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	id := f.findMessage(t, token, subjectIs("Lunch tomorrow?")).ID
	tests := []struct {
		query string
		want  []string
	}{
		{"format=metadata&metadataHeaders=From&metadataHeaders=Subject", []string{"Subject", "From"}},
		{"format=metadata&metadataHeaders=subject&metadataHeaders=FROM&metadataHeaders=date", []string{"Date", "Subject", "From"}},
		{"format=metadata&metadataHeaders=X-Not-There", nil},
		{"format=metadata", []string{"Delivered-To", "Received", "MIME-Version", "Date", "Message-ID", "Subject", "From", "To", "Content-Type", "Content-Transfer-Encoding"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp := f.gmail(t, token, listPath+"/"+id+"?"+tt.query)
			wantStatus(t, resp, http.StatusOK)
			var m messageResource
			resp.decode(t, &m)
			var names []string
			for _, h := range m.Payload.Headers {
				names = append(names, h.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("headers = %v; want %v, in the message's order", names, tt.want)
			}
		})
	}
}

func TestGetMessageErrors(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	alexToken := f.sandbox.IssueToken(alex).AccessToken
	alexMessage := f.listAll(t, alexToken, "")[0]
	tests := []struct {
		name       string
		id         string
		wantStatus int
		wantState  string
		wantReason string
	}{
		{name: "unknown ID", id: "18c0ffee00000001", wantStatus: http.StatusNotFound, wantState: "NOT_FOUND", wantReason: "notFound"},
		{name: "another person's message", id: alexMessage, wantStatus: http.StatusNotFound, wantState: "NOT_FOUND", wantReason: "notFound"},
		{name: "ID that is not hex", id: "not-an-id", wantStatus: http.StatusBadRequest, wantState: "INVALID_ARGUMENT", wantReason: "invalidArgument"},
		{name: "ID with upper-case hex, strict", id: "18C0FFEE00000001", wantStatus: http.StatusBadRequest, wantState: "INVALID_ARGUMENT", wantReason: "invalidArgument"},
		{name: "ID out of range", id: "ffffffffffffffff", wantStatus: http.StatusBadRequest, wantState: "INVALID_ARGUMENT", wantReason: "invalidArgument"},
		{name: "ID one digit too long", id: "18c0ffee000000011", wantStatus: http.StatusBadRequest, wantState: "INVALID_ARGUMENT", wantReason: "invalidArgument"},
		{name: "ID far too large", id: strings.Repeat("f", 40), wantStatus: http.StatusBadRequest, wantState: "INVALID_ARGUMENT", wantReason: "invalidArgument"},
		{name: "short unknown ID", id: "1", wantStatus: http.StatusNotFound, wantState: "NOT_FOUND", wantReason: "notFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.gmail(t, token, listPath+"/"+tt.id)
			wantGoogleError(t, "GET message "+tt.id, resp, tt.wantStatus, tt.wantState, tt.wantReason)
			wantMessage := "Requested entity was not found."
			if tt.wantStatus == http.StatusBadRequest {
				wantMessage = "Invalid id value"
			}
			var body googleError
			resp.decode(t, &body)
			if body.Error.Message != wantMessage {
				t.Errorf("message = %q; want Google's %q", body.Error.Message, wantMessage)
			}
		})
	}
}

func TestSnippetsAreHTMLEscapedLikeGmail(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	tests := []struct {
		subject     string
		wantSnippet string
	}{
		{"Lunch tomorrow?", "Shall we meet at &quot;Café Bleu&quot; at 12:30? Their soup &amp; sandwich set is &lt; ¥1,000. Olivia"},
		{"Tom & Jerry <b>bold</b>", "This week: Tom &amp; Jerry&#39;s guide to &lt;b&gt;bold&lt;/b&gt; typography, and why &quot;less&quot; is more."},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			m := f.findMessage(t, token, subjectIs(tt.subject))
			if m.Snippet != tt.wantSnippet {
				t.Errorf("snippet = %q; want %q", m.Snippet, tt.wantSnippet)
			}
			// Gmail's JSON carries the entities literally, not as \u0026.
			resp := f.gmail(t, token, listPath+"/"+m.ID+"?format=minimal")
			if !bytes.Contains(resp.body, []byte("&quot;Café Bleu&quot;")) && !bytes.Contains(resp.body, []byte("Tom &amp; Jerry")) {
				t.Errorf("raw JSON escapes the snippet's entities again:\n%s", resp.body)
			}
		})
	}
}

func TestSeededMailboxesAreRealistic(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	token := f.sandbox.IssueToken(hanako).AccessToken
	ids := f.listAll(t, token, "maxResults=500&includeSpamTrash=true")
	if len(ids) != hanakoTotal {
		t.Fatalf("%s has %d messages; want %d", hanako, len(ids), hanakoTotal)
	}
	threads := make(map[string]int)
	found := make(map[string]bool)
	for _, id := range ids {
		m := f.getMessage(t, token, id, "metadata")
		threads[m.ThreadID]++
		millis, err := strconv.ParseInt(m.InternalDate, 10, 64)
		if err != nil {
			t.Fatalf("internalDate %q: %v", m.InternalDate, err)
		}
		date := time.UnixMilli(millis).In(now.Location())
		switch day := date.Format(time.DateOnly); {
		case date.After(now):
			t.Errorf("message %s is dated %s, in the future", id, date)
		case day == now.Format(time.DateOnly):
			found["today"] = true
		case day == now.AddDate(0, 0, -1).Format(time.DateOnly):
			found["yesterday"] = true
		case date.Year() == now.Year()-1:
			found["last year"] = true
		case date.Before(now.AddDate(0, -2, 0)):
			found["months ago"] = true
		}
		subject, hasSubject := m.header("Subject")
		from, _ := m.header("From")
		if _, hasDate := m.header("Date"); !hasDate {
			found["no Date header"] = true
		}
		switch {
		case !hasSubject:
			found["no Subject header"] = true
		case strings.Contains(subject, `<script>alert("x")</script>`):
			found["script in subject"] = true
		case subject == "Tom & Jerry <b>bold</b>":
			found["markup in subject"] = true
		case len([]rune(subject)) > 150:
			found["very long subject"] = true
		case strings.HasPrefix(subject, "【重要】"):
			found["Japanese subject"] = true
		}
		switch {
		case strings.HasPrefix(from, "=?UTF-8?B?"):
			found["RFC 2047 From"] = true
		case !strings.Contains(from, "<"):
			found["address-only From"] = true
		case from == "佐藤 健 <ken.sato@example.co.jp>":
			found["Japanese sender"] = true
		}
	}
	for _, count := range threads {
		if count > 1 {
			found["thread"] = true
		}
	}
	for _, want := range []string{"today", "yesterday", "months ago", "last year", "no Date header", "no Subject header",
		"script in subject", "markup in subject", "very long subject", "Japanese subject", "RFC 2047 From",
		"address-only From", "Japanese sender", "thread"} {
		if !found[want] {
			t.Errorf("%s's mailbox has no message with %s", hanako, want)
		}
	}

	for _, tt := range []struct {
		account             string
		wantMin, wantUnread int
	}{
		{alex, 8, 3},
		{emptyBox, 1, 0},
	} {
		if got := f.sandbox.UnreadCount(tt.account); got != tt.wantUnread {
			t.Errorf("UnreadCount(%s) = %d; want %d", tt.account, got, tt.wantUnread)
		}
		if got := len(f.listAll(t, f.sandbox.IssueToken(tt.account).AccessToken, "")); got < tt.wantMin {
			t.Errorf("%s has %d messages; want at least %d", tt.account, got, tt.wantMin)
		}
	}
	if got := f.sandbox.Accounts(); !slices.Equal(got, []string{hanako, alex, emptyBox}) {
		t.Errorf("Accounts() = %v; want %s first, then %s and %s", got, hanako, alex, emptyBox)
	}
}

func TestProfile(t *testing.T) {
	f := newFixture(t)
	for _, account := range f.sandbox.Accounts() {
		t.Run(account, func(t *testing.T) {
			resp := f.gmail(t, f.sandbox.IssueToken(account).AccessToken, profilePath)
			wantStatus(t, resp, http.StatusOK)
			var profile struct {
				EmailAddress  string `json:"emailAddress"`
				MessagesTotal int    `json:"messagesTotal"`
				ThreadsTotal  int    `json:"threadsTotal"`
				HistoryID     string `json:"historyId"`
			}
			resp.decode(t, &profile)
			if profile.EmailAddress != account || profile.MessagesTotal == 0 || profile.ThreadsTotal == 0 ||
				profile.ThreadsTotal > profile.MessagesTotal || profile.HistoryID == "" {
				t.Errorf("profile = %+v; want %s with message, thread and history counts", profile, account)
			}
		})
	}
}

// TestWriteMethodsNeedAWriteScope: a read-only token calling a method that
// changes the mailbox gets Gmail's 403 insufficientPermissions, whether
// the sandbox serves that method or not.
func TestWriteMethodsNeedAWriteScope(t *testing.T) {
	f := newFixture(t, googleLike)
	readOnly := f.sandbox.IssueToken(hanako).AccessToken
	modify := f.sandbox.IssueToken(hanako, sandbox.GmailModifyScope).AccessToken
	id := f.listAll(t, readOnly, "")[0]
	for _, tt := range []struct {
		name, method, path, body, token string
		want                            int
	}{
		{"insert, read-only", http.MethodPost, listPath, `{"raw":"U3ViamVjdDogeA0KDQp4"}`, readOnly, http.StatusForbidden},
		{"modify, read-only", http.MethodPost, listPath + "/" + id + "/modify", `{"removeLabelIds":["UNREAD"]}`, readOnly, http.StatusForbidden},
		{"delete, read-only", http.MethodDelete, listPath + "/" + id, "", readOnly, http.StatusForbidden},
		{"send, read-only", http.MethodPost, listPath + "/send", `{}`, readOnly, http.StatusForbidden},
		{"delete, gmail.modify: not served", http.MethodDelete, listPath + "/" + id, "", modify, http.StatusNotImplemented},
		{"drafts, read-only: not served", http.MethodGet, "/gmail/v1/users/me/drafts", "", readOnly, http.StatusNotImplemented},
		{"modify, gmail.modify", http.MethodPost, listPath + "/" + id + "/modify", `{"removeLabelIds":["UNREAD"]}`, modify, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, f.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp := f.do(t, req)
			if resp.status != tt.want {
				t.Fatalf("%s %s = %d; want %d\n%s", tt.method, tt.path, resp.status, tt.want, resp.body)
			}
			if tt.want == http.StatusForbidden {
				wantGoogleError(t, tt.method+" "+tt.path, resp, http.StatusForbidden, "PERMISSION_DENIED", "insufficientPermissions")
			}
		})
	}
}
