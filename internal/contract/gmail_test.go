package contract_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/gmail"
	"gmailoauth/internal/sandbox"
)

// Google's reference pages for the golden files of this file:
//
//	profileRef: https://developers.google.com/gmail/api/reference/rest/v1/users/getProfile
//	listRef:    https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list
//	getRef:     https://developers.google.com/gmail/api/reference/rest/v1/users.messages/get
//	            and the Message resource, https://developers.google.com/gmail/api/reference/rest/v1/users.messages
//	errorsRef:  https://developers.google.com/gmail/api/guides/handle-errors

const messagesPath = "/gmail/v1/users/me/messages"

// metadataQuery is what the app asks of messages.get: format=metadata and
// the three headers a row of the inbox shows.
const metadataQuery = "format=metadata&metadataHeaders=From&metadataHeaders=Subject&metadataHeaders=Date"

// appQuery is a query the app sent, less prettyPrint=false, a parameter
// every Google API takes that only trims whitespace from the answer.
func appQuery(raw string) string {
	query, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	if query.Get("prettyPrint") == "false" {
		query.Del("prettyPrint")
	}
	return query.Encode()
}

// gmailGet sends an authenticated GET to a Gmail API path of the target.
func (tg *target) gmailGet(t *testing.T, accessToken, pathAndQuery string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, tg.gmailURL+pathAndQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return do(t, req)
}

// someMessageIDs lists up to n message IDs of the target's mailbox,
// skipping the test when it has fewer than want.
func (tg *target) someMessageIDs(t *testing.T, accessToken string, n, want int) []string {
	t.Helper()
	got := tg.gmailGet(t, accessToken, messagesPath+"?maxResults="+strconv.Itoa(n))
	if got.status != http.StatusOK {
		t.Fatalf("%s: GET messages = %d\n%s", tg.name, got.status, got.body)
	}
	var list struct {
		Messages []struct{ ID string } `json:"messages"`
	}
	decode(t, got.body, &list)
	if len(list.Messages) < want {
		t.Skipf("%s: the mailbox has %d messages; this test needs %d", tg.name, len(list.Messages), want)
	}
	var ids []string
	for _, m := range list.Messages {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestProfile(t *testing.T) {
	// testdata/profile.json: the response body of users.getProfile, profileRef.
	t.Run("the client decodes Google's answer", func(t *testing.T) {
		server := serveGolden(t, http.StatusOK, golden(t, "profile.json"))
		got, err := gmailClientFor(t, server.URL, nil).Profile(t.Context())
		want := gmail.Profile{EmailAddress: "hanako.yamada@example.jp", MessagesTotal: 1327, ThreadsTotal: 908, HistoryID: "2358102"}
		if err != nil || got != want {
			t.Errorf("Profile() = %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("the target answers in Google's shape", func(t *testing.T) {
		tg := newTarget(t)
		got := tg.gmailGet(t, tg.token(t).AccessToken, "/gmail/v1/users/me/profile")
		if got.status != http.StatusOK {
			t.Fatalf("%s: GET profile = %d; want 200\n%s", tg.name, got.status, got.body)
		}
		wantJSON(t, tg, "profile", got)
		checkShape(t, tg, "profile.json", got.body)
		profile, err := tg.gmailClient(t).Profile(t.Context())
		if err != nil || !strings.Contains(profile.EmailAddress, "@") || profile.HistoryID == "" {
			t.Errorf("%s: Profile() = %+v, %v; want an address and a history ID", tg.name, profile, err)
		}
	})
}

func TestMessagesList(t *testing.T) {
	// testdata/messages-list*.json: the response body of
	// users.messages.list, listRef; messages is left out when none match.
	t.Run("the client decodes Google's answer", func(t *testing.T) {
		var query url.Values
		server := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != messagesPath {
				// The metadata and the profile: without them a row has the
				// list's IDs only.
				http.NotFound(w, r)
				return
			}
			query = r.URL.Query()
			writeJSON(w, http.StatusOK, golden(t, "messages-list.json"))
		})
		got, err := gmailClientFor(t, server.URL, nil).Unread(t.Context(), "", 2)
		if err != nil {
			t.Fatal(err)
		}
		want := gmail.Page{
			Messages: []gmail.Summary{
				{ID: "18c5d5f4a1b2c3d4", ThreadID: "18c5d5f4a1b2c3d4"},
				{ID: "18c5d0e9f8e7d6c5", ThreadID: "18c5c1a2b3c4d5e6"},
			},
			NextPageToken:      "09876543210987654321",
			ResultSizeEstimate: 201,
		}
		sameRefs := slices.EqualFunc(got.Messages, want.Messages, func(a, b gmail.Summary) bool { return a.ID == b.ID && a.ThreadID == b.ThreadID })
		if !sameRefs || got.NextPageToken != want.NextPageToken || got.ResultSizeEstimate != want.ResultSizeEstimate {
			t.Errorf("Unread() = %+v; want the messages, page token and estimate of %+v", got, want)
		}
		if query.Get("q") != "is:unread" || query.Get("maxResults") != "2" {
			t.Errorf("the client asked %v; want q=is:unread and maxResults=2", query)
		}
	})
	t.Run("the client decodes an empty answer", func(t *testing.T) {
		server := serveGolden(t, http.StatusOK, golden(t, "messages-list-empty.json"))
		got, err := gmailClientFor(t, server.URL, nil).Unread(t.Context(), "", 0)
		if err != nil || len(got.Messages) != 0 || got.NextPageToken != "" || got.ResultSizeEstimate != 0 {
			t.Errorf("Unread() = %+v, %v; want no messages and no error", got, err)
		}
	})
	t.Run("the target answers in Google's shape", func(t *testing.T) {
		tg := newTarget(t)
		token := tg.token(t).AccessToken
		tg.someMessageIDs(t, token, 2, 1)
		got := tg.gmailGet(t, token, messagesPath+"?maxResults=2")
		wantJSON(t, tg, "messages.list", got)
		checkShape(t, tg, "messages-list.json", got.body, "nextPageToken")
		// No mailbox has this label, so nothing matches.
		empty := tg.gmailGet(t, token, messagesPath+"?q="+url.QueryEscape("label:contract-test-no-such-label"))
		if empty.status != http.StatusOK {
			t.Fatalf("%s: list with no match = %d; want 200\n%s", tg.name, empty.status, empty.body)
		}
		checkShape(t, tg, "messages-list-empty.json", empty.body)
		if field(t, empty.body, "messages") != nil {
			t.Errorf("%s: a list with no match has a messages field:\n%s", tg.name, empty.body)
		}
	})
}

func TestMessageMetadata(t *testing.T) {
	// testdata/message-metadata.json: a Message resource as
	// users.messages.get returns it with format=metadata, getRef.
	t.Run("the client decodes Google's answer", func(t *testing.T) {
		// standInGoogle checks that the client asks for
		// messagesPath/{id}?metadataQuery.
		server := standInGoogle(t, func(string) string { return "Figures for Friday" })
		page, err := gmailClientFor(t, server.URL, nil).Unread(t.Context(), "", 1)
		if err != nil || len(page.Messages) != 1 {
			t.Fatalf("Unread() = %+v, %v; want one message", page, err)
		}
		got := page.Messages[0]
		if got.Err != nil || got.ID != "18c5d5f4a1b2c3d4" || got.ThreadID != "18c5d5f4a1b2c3d4" ||
			got.From != (gmail.Address{Name: "Alex Example", Email: "alex@example.com"}) || got.Subject != "Figures for Friday" ||
			!got.Date.Equal(time.Date(2023, 12, 14, 9, 41, 7, 0, time.FixedZone("", 9*60*60))) {
			t.Errorf("Unread() message = %+v; want the golden message's ID, thread, sender, subject and date", got)
		}
		if got.Snippet != "Could you look at the figures before Friday's meeting? The \"Q3\" sheet is attached." {
			t.Errorf("Snippet = %q; want Gmail's HTML-escaped snippet unescaped once", got.Snippet)
		}
	})
	t.Run("the target answers in Google's shape", func(t *testing.T) {
		tg := newTarget(t)
		token := tg.token(t).AccessToken
		id := tg.someMessageIDs(t, token, 1, 1)[0]
		got := tg.gmailGet(t, token, messagesPath+"/"+id+"?"+metadataQuery)
		if got.status != http.StatusOK {
			t.Fatalf("%s: GET message = %d; want 200\n%s", tg.name, got.status, got.body)
		}
		wantJSON(t, tg, "messages.get", got)
		// A message can carry no labels, and then Gmail leaves labelIds out.
		checkShape(t, tg, "message-metadata.json", got.body, "labelIds")
		var message struct {
			ID      string `json:"id"`
			Payload struct {
				Headers []struct{ Name string } `json:"headers"`
			} `json:"payload"`
		}
		decode(t, got.body, &message)
		for _, h := range message.Payload.Headers {
			if !slices.ContainsFunc([]string{"From", "Subject", "Date"}, func(name string) bool { return strings.EqualFold(name, h.Name) }) {
				t.Errorf("%s: metadata carries header %q, which metadataHeaders did not ask for", tg.name, h.Name)
			}
		}
		if message.ID != id {
			t.Errorf("%s: GET message %s answered message %q", tg.name, id, message.ID)
		}
	})
}

// gmailError is one error case: Google's documented body, what
// internal/gmail makes of it, and how to meet it live.
type gmailError struct {
	name    string
	golden  string
	status  int
	kind    error // the internal/gmail sentinel the app maps to a page
	produce func(t *testing.T, tg *target) answer
	// notLive says why the case cannot be produced on demand against
	// real Google; empty means it can.
	notLive string
}

func TestGmailErrors(t *testing.T) {
	// testdata/error-*.json: the JSON error bodies of the Gmail API.
	// error-401, error-403-rate-limit and error-403-user-rate-limit are the
	// samples of errorsRef; the others are Google's error model
	// (https://google.aip.dev/193) with the codes, reasons and messages
	// Gmail sends: "Invalid id value" (400) and "Requested entity was not
	// found." (404) for message IDs, "Request had insufficient
	// authentication scopes." (403), and "Too many concurrent requests for
	// user." (429), which errorsRef describes in prose only.
	profile := "/gmail/v1/users/me/profile"
	withFault := func(fault sandbox.Fault) func(t *testing.T, tg *target) answer {
		return func(t *testing.T, tg *target) answer {
			tg.sandbox.InjectFaults(fault)
			return tg.gmailGet(t, tg.token(t).AccessToken, profile)
		}
	}
	tests := []gmailError{
		{
			name: "400 invalid message id", golden: "error-400-invalid-id.json", status: http.StatusBadRequest, kind: gmail.ErrBadRequest,
			produce: func(t *testing.T, tg *target) answer {
				return tg.gmailGet(t, tg.token(t).AccessToken, messagesPath+"/not-a-message-id?"+metadataQuery)
			},
		},
		{
			name: "400 message id too large", golden: "error-400-invalid-id.json", status: http.StatusBadRequest, kind: gmail.ErrBadRequest,
			produce: func(t *testing.T, tg *target) answer {
				return tg.gmailGet(t, tg.token(t).AccessToken, messagesPath+"/"+strings.Repeat("f", 24)+"?"+metadataQuery)
			},
		},
		{
			name: "401 invalid credentials", golden: "error-401.json", status: http.StatusUnauthorized, kind: gmail.ErrUnauthorized,
			produce: func(t *testing.T, tg *target) answer {
				return tg.gmailGet(t, "ya29.contract-test-not-a-token", profile)
			},
		},
		{
			name: "403 insufficient permissions", golden: "error-403-insufficient-permissions.json", status: http.StatusForbidden, kind: gmail.ErrForbidden,
			produce: func(t *testing.T, tg *target) answer {
				return tg.gmailGet(t, tg.sandbox.IssueToken(tg.sandbox.Accounts()[0], "openid", "email").AccessToken, profile)
			},
			notLive: "it needs a grant without the Gmail scope, which takes a person at the consent screen",
		},
		{
			name: "403 project rate limit", golden: "error-403-rate-limit.json", status: http.StatusForbidden, kind: gmail.ErrRateLimited,
			produce: withFault(sandbox.Fault{Call: "profile", Status: http.StatusForbidden, Reason: "rateLimitExceeded"}),
			notLive: "Google's quotas cannot be exhausted on demand",
		},
		{
			name: "403 user rate limit", golden: "error-403-user-rate-limit.json", status: http.StatusForbidden, kind: gmail.ErrRateLimited,
			produce: withFault(sandbox.Fault{Call: "profile", Status: http.StatusForbidden, Reason: "userRateLimitExceeded"}),
			notLive: "Google's quotas cannot be exhausted on demand",
		},
		{
			name: "404 unknown message", golden: "error-404.json", status: http.StatusNotFound, kind: gmail.ErrNotFound,
			produce: func(t *testing.T, tg *target) answer {
				return tg.gmailGet(t, tg.token(t).AccessToken, messagesPath+"/7fffffffffffff00?"+metadataQuery) // in range of int64: unknown, not invalid
			},
		},
		{
			name: "429 too many requests", golden: "error-429.json", status: http.StatusTooManyRequests, kind: gmail.ErrRateLimited,
			produce: withFault(sandbox.Fault{Call: "profile", Status: http.StatusTooManyRequests}),
			notLive: "Google's per-user limits cannot be reached on demand without abusing them",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Run("the client decodes Google's answer", func(t *testing.T) {
				server := serveGolden(t, tt.status, golden(t, tt.golden))
				_, err := gmailClientFor(t, server.URL, nil).Profile(t.Context())
				apiErr, ok := errors.AsType[*gmail.APIError](err)
				wantReason, _ := field(t, golden(t, tt.golden), "error.errors[0].reason").(string)
				if !errors.Is(err, tt.kind) || !ok || apiErr.Status != tt.status || apiErr.Reason != wantReason {
					t.Errorf("Profile() error = %v; want %v with HTTP %d and reason %s", err, tt.kind, tt.status, wantReason)
				}
			})
			t.Run("the target answers in Google's shape", func(t *testing.T) {
				tg := newTarget(t)
				if tt.notLive != "" {
					tg.sandboxOnly(t, tt.notLive)
				}
				got := tt.produce(t, tg)
				if got.status != tt.status {
					t.Fatalf("%s answered %d; want %d\n%s", tg.name, got.status, tt.status, got.body)
				}
				wantJSON(t, tg, tt.name, got)
				checkShape(t, tg, tt.golden, got.body)
				wantFields(t, tg, tt.golden, got.body, "error.code", "error.errors[0].domain", "error.errors[0].reason")
			})
		})
	}
}
