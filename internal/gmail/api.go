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
	// gmailDefaultPageSize is how many messages a list without maxResults
	// answers ("This field defaults to 100", users.messages.list,
	// https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list).
	gmailDefaultPageSize = 100
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

// List returns one page of message references (GET users/me/messages).
func (c *Client) List(ctx context.Context, opts ListOptions) (ListResult, error) {
	result, err := c.list(ctx, c.newSemaphore(), opts)
	if err != nil {
		return ListResult{}, fmt.Errorf("gmail list: %w", err)
	}
	return result, nil
}

func (c *Client) list(ctx context.Context, sem semaphore, opts ListOptions) (ListResult, error) {
	query := url.Values{}
	if opts.Query != "" {
		query.Set("q", opts.Query)
	}
	for _, label := range opts.LabelIDs {
		query.Add("labelIds", label)
	}
	if opts.MaxResults > 0 {
		query.Set("maxResults", strconv.Itoa(opts.MaxResults))
	}
	if opts.PageToken != "" {
		query.Set("pageToken", opts.PageToken)
	}
	type ref struct {
		ID       string `json:"id"`
		ThreadID string `json:"threadId"`
	}
	var raw struct {
		Messages           []ref  `json:"messages"`
		NextPageToken      string `json:"nextPageToken"`
		ResultSizeEstimate int    `json:"resultSizeEstimate"`
	}
	asked := opts.MaxResults
	if asked <= 0 {
		asked = gmailDefaultPageSize
	}
	// Room for a whole page, so decoding does not grow the slice step by step.
	raw.Messages = make([]ref, 0, min(asked, maxPageSize))
	call := apiCall{name: "messages.list", path: messagesPath, query: query, maxBytes: listResponseBytes(asked)}
	if err := c.getJSON(ctx, sem, call, &raw); err != nil {
		return ListResult{}, err
	}
	// A list longer than the page asked for is no answer Gmail gives; each
	// reference beyond it would cost a metadata call and a row.
	if len(raw.Messages) > asked {
		c.svc.cfg.Logger.Warn("gmail: list answered more messages than asked for", "asked", asked, "answered", len(raw.Messages))
		raw.Messages = raw.Messages[:asked]
	}
	result := ListResult{
		Messages:           make([]MessageRef, 0, len(raw.Messages)),
		NextPageToken:      raw.NextPageToken,
		ResultSizeEstimate: raw.ResultSizeEstimate,
	}
	for _, ref := range raw.Messages {
		result.Messages = append(result.Messages, MessageRef{ID: ref.ID, ThreadID: checkedThreadID(ref.ThreadID)})
	}
	return result, nil
}

// Get returns one message (GET users/me/messages/{id}). An id that cannot be
// a Gmail message ID is ErrNotFound without a call.
func (c *Client) Get(ctx context.Context, id string, opts GetOptions) (Message, error) {
	query, err := getQuery(opts)
	if err != nil {
		return Message{}, fmt.Errorf("gmail get: %w", err)
	}
	msg, err := c.get(ctx, c.newSemaphore(), id, query)
	if err != nil {
		return Message{}, fmt.Errorf("gmail get: %w", err)
	}
	return msg, nil
}

func (c *Client) get(ctx context.Context, sem semaphore, id string, query url.Values) (Message, error) {
	if !validMessageID(id) {
		return Message{}, fmt.Errorf("invalid message id: %w", ErrNotFound)
	}
	var raw messageJSON
	if err := c.getJSON(ctx, sem, apiCall{name: "messages.get", path: messagesPath + "/" + id, query: query}, &raw); err != nil {
		return Message{}, err
	}
	return raw.message(id)
}

func (c *Client) newSemaphore() semaphore { return newSemaphore(c.svc.cfg.MaxInFlight) }

func getQuery(opts GetOptions) (url.Values, error) {
	query := url.Values{}
	switch opts.Format {
	case "":
	case "minimal", "metadata", "full":
		query.Set("format", opts.Format)
	default:
		return nil, fmt.Errorf("format %q: %w", opts.Format, ErrBadRequest)
	}
	for _, name := range opts.MetadataHeaders {
		query.Add("metadataHeaders", name)
	}
	return query, nil
}

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
