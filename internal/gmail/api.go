package gmail

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

const (
	usersMePath  = "/gmail/v1/users/me"
	profilePath  = usersMePath + "/profile"
	messagesPath = usersMePath + "/messages"
	batchPath    = "/batch/gmail/v1"
	// maxMessageIDLength is far above Gmail's 16 hex digits; it only keeps a
	// hostile list response from making us build huge URLs.
	maxMessageIDLength = 256
	// maxListEntryBytes bounds one {"id":…,"threadId":…} of a list answer
	// with IDs of maxMessageIDLength, white space included; Gmail's take
	// some 50 bytes.
	maxListEntryBytes = 2*maxMessageIDLength + 64
	// listEnvelopeBytes bounds the rest of a list answer: the page token,
	// the estimate and the braces.
	listEnvelopeBytes = 4 << 10
)

// listResponseBytes is the most a list answer of n messages can take; a
// longer one is cut off there and fails as ErrBadResponse rather than be
// read, decoded and held, up to MaxResponseBytes, for references the page
// would drop.
func listResponseBytes(n int) int64 {
	return int64(n)*maxListEntryBytes + listEnvelopeBytes
}

// Profile returns the signed-in user's profile (GET users/me/profile).
func (c *Client) Profile(ctx context.Context) (Profile, error) {
	return c.profile(ctx, c.newSemaphore())
}

func (c *Client) profile(ctx context.Context, sem semaphore) (Profile, error) {
	var raw struct {
		EmailAddress  string      `json:"emailAddress"`
		MessagesTotal int         `json:"messagesTotal"`
		ThreadsTotal  int         `json:"threadsTotal"`
		HistoryID     looseString `json:"historyId"`
	}
	if err := c.getJSON(ctx, sem, apiCall{name: "users.getProfile", path: profilePath}, &raw); err != nil {
		return Profile{}, fmt.Errorf("gmail profile: %w", err)
	}
	return Profile{
		EmailAddress:  raw.EmailAddress,
		MessagesTotal: raw.MessagesTotal,
		ThreadsTotal:  raw.ThreadsTotal,
		HistoryID:     string(raw.HistoryID),
	}, nil
}

// listPage is one page of the list of unread messages, as Gmail answers
// it (users.messages.list); Messages is empty when nothing matched, because
// Gmail then omits the field.
type listPage struct {
	Messages []struct {
		ID       string `json:"id"`
		ThreadID string `json:"threadId"`
	} `json:"messages"`
	NextPageToken      string `json:"nextPageToken"`
	ResultSizeEstimate int    `json:"resultSizeEstimate"`
}

// listUnread returns the page of at most pageSize unread messages that
// pageToken names ("": the first), with their thread IDs checked
// (GET users/me/messages?q=is:unread).
func (c *Client) listUnread(ctx context.Context, sem semaphore, pageToken string, pageSize int) (listPage, error) {
	query := url.Values{"q": {"is:unread"}, "maxResults": {strconv.Itoa(pageSize)}}
	if pageToken != "" {
		query.Set("pageToken", pageToken)
	}
	var page listPage
	call := apiCall{name: "messages.list", path: messagesPath, query: query, maxBytes: listResponseBytes(pageSize)}
	if err := c.getJSON(ctx, sem, call, &page); err != nil {
		return listPage{}, err
	}
	// A list longer than the page asked for is no answer Gmail gives; each
	// reference beyond it would cost a metadata call and a row.
	if len(page.Messages) > pageSize {
		c.svc.cfg.Logger.Warn("gmail: list answered more messages than asked for", "asked", pageSize, "answered", len(page.Messages))
		page.Messages = page.Messages[:pageSize]
	}
	for i := range page.Messages {
		page.Messages[i].ThreadID = checkedThreadID(page.Messages[i].ThreadID)
	}
	return page, nil
}

func (c *Client) newSemaphore() semaphore { return newSemaphore(c.svc.cfg.MaxInFlight) }

// metadataQuery asks for what a Summary shows: labels, snippet, dates and
// the From, Subject and Date headers.
func metadataQuery() url.Values {
	return url.Values{"format": {"metadata"}, "metadataHeaders": {"From", "Subject", "Date"}}
}

// validMessageID reports whether id can be a Gmail message ID. Checking it
// keeps IDs from a response out of URL paths and batch request lines
// unescaped.
func validMessageID(id string) bool {
	if id == "" || len(id) > maxMessageIDLength {
		return false
	}
	for _, r := range id {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// checkedThreadID returns id if it can be a Gmail thread ID, which has the
// form of a message ID, else "". Thread IDs reach the page and the cache, so
// one from a confused server must not be unbounded or unprintable text.
func checkedThreadID(id string) string {
	if !validMessageID(id) {
		return ""
	}
	return id
}

// messageJSON is a users.messages resource.
type messageJSON struct {
	ID           string      `json:"id"`
	ThreadID     string      `json:"threadId"`
	LabelIDs     []string    `json:"labelIds"`
	Snippet      string      `json:"snippet"`
	HistoryID    looseString `json:"historyId"`
	InternalDate looseString `json:"internalDate"`
	SizeEstimate int         `json:"sizeEstimate"`
	Payload      struct {
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"payload"`
}

// message converts raw, checking that it is the message that was asked for
// so a confused server cannot show one message's metadata under another.
func (raw messageJSON) message(wantID string) (Message, error) {
	if raw.ID != wantID {
		return Message{}, fmt.Errorf("%w: asked for message %q, got %.64q", ErrBadResponse, wantID, raw.ID)
	}
	msg := Message{
		ID:           raw.ID,
		ThreadID:     checkedThreadID(raw.ThreadID),
		LabelIDs:     raw.LabelIDs,
		Snippet:      raw.Snippet,
		HistoryID:    string(raw.HistoryID),
		SizeEstimate: raw.SizeEstimate,
		Headers:      make([]Header, 0, len(raw.Payload.Headers)),
	}
	// Gmail sends milliseconds since the epoch as a string; a missing or odd
	// value leaves the zero time, which Summary treats as "no date".
	if millis, err := strconv.ParseInt(string(raw.InternalDate), 10, 64); err == nil && millis > 0 {
		msg.InternalDate = time.UnixMilli(millis).UTC()
	}
	for _, h := range raw.Payload.Headers {
		msg.Headers = append(msg.Headers, Header{Name: h.Name, Value: h.Value})
	}
	return msg, nil
}

// looseString accepts a JSON string or number. Gmail sends its 64-bit fields
// (historyId, internalDate) as strings; accepting numbers too costs nothing
// and tolerates stand-ins that do not.
type looseString string

func (s *looseString) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var str string
		if err := json.Unmarshal(data, &str); err != nil {
			return err
		}
		*s = looseString(str)
		return nil
	}
	var num json.Number
	if err := json.Unmarshal(data, &num); err != nil {
		return err
	}
	*s = looseString(num)
	return nil
}
