package gmailapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"gmailoauth/internal/sandbox/mailstore"
)

// maxBodyBytes bounds what a write method reads: a message to insert is
// the largest, and the sandbox shares its process with the app.
const maxBodyBytes = 4 << 20

type listResponse struct {
	Messages           []messageRef `json:"messages,omitempty"`
	NextPageToken      string       `json:"nextPageToken,omitempty"`
	ResultSizeEstimate int          `json:"resultSizeEstimate"`
}

type messageRef struct {
	ID       string `json:"id"`
	ThreadID string `json:"threadId"`
}

// listMessages is users.messages.list.
func (s *API) listMessages(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	query := r.URL.Query()
	filter, pageSize, apiErr := s.parseListQuery(query, box.Address)
	if apiErr != nil {
		return nil, apiErr
	}
	fingerprint := listFingerprint("messages", box, query)
	start, apiErr := s.pageStart(query, fingerprint)
	if apiErr != nil {
		return nil, apiErr
	}
	box.Mu.RLock()
	defer box.Mu.RUnlock()
	matches := box.Search(filter)
	from, to, next := s.pageEnd(start, pageSize, len(matches), fingerprint)
	response := listResponse{ResultSizeEstimate: len(matches), NextPageToken: next}
	for _, m := range matches[from:to] {
		response.Messages = append(response.Messages, messageRef{ID: m.ID, ThreadID: m.ThreadID})
	}
	return response, nil
}

// listFingerprint is what a page token of a list of kind is bound to: the
// mailbox and the query's filter.
func listFingerprint(kind string, box *mailstore.Mailbox, query url.Values) []string {
	return []string{kind, box.Address, query.Get("q"), strings.Join(query["labelIds"], ","), query.Get("includeSpamTrash")}
}

// parseListQuery reads the query of messages.list and threads.list: the
// filter (labelIds, q, includeSpamTrash) and the page size (maxResults).
// me is the signed-in account's address.
func (s *API) parseListQuery(query url.Values, me string) (mailstore.Filter, int, *apiError) {
	var filter mailstore.Filter
	if apiErr := s.checkParams(query, "q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"); apiErr != nil {
		return filter, 0, apiErr
	}
	pageSize, apiErr := pageSizeParam(query, defaultPageSize)
	if apiErr != nil {
		return filter, 0, apiErr
	}
	for _, label := range query["labelIds"] {
		if !slices.Contains(mailstore.SystemLabels, label) {
			return filter, 0, errInvalidArgument("Invalid label: " + label)
		}
		filter.Labels = append(filter.Labels, label)
	}
	switch query.Get("includeSpamTrash") {
	case "", "false":
	case "true":
		filter.IncludeSpamTrash = true
	default:
		return filter, 0, errInvalidArgument(fmt.Sprintf("Invalid value at 'include_spam_trash' (TYPE_BOOL), %q", query.Get("includeSpamTrash")))
	}
	if q := query.Get("q"); q != "" {
		var err error
		if filter.Q, filter.Scope, err = mailstore.ParseQuery(q, mailstore.SearchContext{Now: s.now(), Me: me}); err != nil {
			return filter, 0, errInvalidArgument("Invalid query: " + err.Error())
		}
	}
	return filter, pageSize, nil
}

// getMessage is users.messages.get.
func (s *API) getMessage(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	query := r.URL.Query()
	if apiErr := s.checkParams(query, "format", "metadataHeaders"); apiErr != nil {
		return nil, apiErr
	}
	format, apiErr := formatParam(query)
	if apiErr != nil {
		return nil, apiErr
	}
	id, apiErr := s.pathID(r)
	if apiErr != nil {
		return nil, apiErr
	}
	box.Mu.RLock()
	defer box.Mu.RUnlock()
	message, ok := box.ByID[id]
	if !ok {
		return nil, errNotFound()
	}
	return resource(message, format, query["metadataHeaders"]), nil
}

// formatParam reads the format of messages.get and threads.get.
func formatParam(query url.Values) (string, *apiError) {
	switch format := strings.ToLower(query.Get("format")); format {
	case "":
		return formatFull, nil
	case formatMinimal, formatMetadata, formatFull, formatRaw:
		return format, nil
	}
	return "", errInvalidArgument(fmt.Sprintf("Invalid value at 'format' (type.googleapis.com/google.apps.gmail.v1.Format), %q", query.Get("format")))
}

// profileResponse is a users.getProfile answer.
type profileResponse struct {
	EmailAddress  string `json:"emailAddress"`
	MessagesTotal int    `json:"messagesTotal"`
	ThreadsTotal  int    `json:"threadsTotal"`
	HistoryID     string `json:"historyId"`
}

// getProfile is users.getProfile.
func (s *API) getProfile(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		return nil, apiErr
	}
	box.Mu.RLock()
	defer box.Mu.RUnlock()
	return profileResponse{box.Address, len(box.Messages), box.ThreadsTotal(), strconv.FormatUint(box.HistoryID, 10)}, nil
}

// modifyMessage is users.messages.modify: labels added and removed, as
// reading (taking UNREAD off) or archiving (INBOX) does.
func (s *API) modifyMessage(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		return nil, apiErr
	}
	var change struct {
		AddLabelIDs    []string `json:"addLabelIds"`
		RemoveLabelIDs []string `json:"removeLabelIds"`
	}
	if apiErr := readJSON(r, &change); apiErr != nil {
		return nil, apiErr
	}
	if apiErr := checkLabels(slices.Concat(change.AddLabelIDs, change.RemoveLabelIDs)); apiErr != nil {
		return nil, apiErr
	}
	id, apiErr := s.pathID(r)
	if apiErr != nil {
		return nil, apiErr
	}
	box.Mu.Lock()
	defer box.Mu.Unlock()
	m, ok := box.ByID[id]
	if !ok {
		return nil, errNotFound()
	}
	box.Relabel(m, change.AddLabelIDs, change.RemoveLabelIDs)
	return resource(m, formatMinimal, nil), nil
}

// checkLabels refuses a label ID the mailbox does not have.
func checkLabels(labels []string) *apiError {
	for _, label := range labels {
		if !slices.Contains(mailstore.SystemLabels, label) {
			return errInvalidArgument("Invalid label: " + label)
		}
	}
	return nil
}

// insertRequest is the body of users.messages.insert: a Message with raw,
// and the labels and thread to put it in.
type insertRequest struct {
	Raw      string   `json:"raw"`
	LabelIDs []string `json:"labelIds"`
	ThreadID string   `json:"threadId"`
}

// insertMessage is users.messages.insert: a message, in RFC 5322 form,
// put straight into the mailbox with the labels given, as IMAP APPEND
// does. The message is sent as JSON ({"raw": …}); the upload protocol
// for large ones is not served.
func (s *API) insertMessage(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	query := r.URL.Query()
	if apiErr := s.checkParams(query, "internalDateSource", "deleted"); apiErr != nil {
		return nil, apiErr
	}
	dateHeader, apiErr := internalDateSourceParam(query)
	if apiErr != nil {
		return nil, apiErr
	}
	if apiErr := boolParam(query, "deleted"); apiErr != nil {
		return nil, apiErr
	}
	var request insertRequest
	if apiErr := readJSON(r, &request); apiErr != nil {
		return nil, apiErr
	}
	raw, err := base64.URLEncoding.DecodeString(request.Raw)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(request.Raw)
	}
	if err != nil || len(raw) == 0 {
		return nil, errInvalidArgument("'raw' RFC822 payload message string or uploading message via /upload/* URL required")
	}
	if apiErr := checkLabels(request.LabelIDs); apiErr != nil {
		return nil, apiErr
	}
	received := s.now()
	m, err := mailstore.NewInsertedMessage(raw, request.LabelIDs, received, dateHeader)
	if err != nil {
		return nil, errInvalidArgument(sentence(err))
	}
	m.ID = s.store.NewMessageID(received)
	box.Mu.Lock()
	defer box.Mu.Unlock()
	if err := box.RoomFor(m); err != nil {
		return nil, errStorageFull(sentence(err) + ".")
	}
	m.ThreadID = box.ReplyThread(m, request.ThreadID)
	box.Add(m)
	return resource(m, formatMinimal, nil), nil
}

// internalDateSourceParam reads internalDateSource: whether the message's
// Date header, rather than the time it arrives, is its internal date.
func internalDateSourceParam(query url.Values) (bool, *apiError) {
	switch value := query.Get("internalDateSource"); value {
	case "", "receivedTime":
		return false, nil
	case "dateHeader":
		return true, nil
	default:
		return false, errInvalidArgument(fmt.Sprintf(
			"Invalid value at 'internal_date_source' (type.googleapis.com/google.apps.gmail.v1.InsertMessageRequest.InternalDateSource), %q", value))
	}
}

// boolParam refuses a boolean parameter that is neither true nor false.
func boolParam(query url.Values, name string) *apiError {
	switch value := query.Get(name); value {
	case "", "true", "false":
		return nil
	default:
		return errInvalidArgument(fmt.Sprintf("Invalid value at '%s' (TYPE_BOOL), %q", name, value))
	}
}

// readJSON decodes the JSON body of a write method, bounded.
func readJSON(r *http.Request, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		return errInvalidArgument(fmt.Sprintf("The request body could not be read (the sandbox takes up to %d bytes): %v", maxBodyBytes, err))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errInvalidArgument("Invalid JSON payload received. " + err.Error())
	}
	return nil
}
