package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gmailoauth/internal/encword"
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
func (s *Server) listMessages(r *http.Request, box *Mailbox) (any, *apiError) {
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
func listFingerprint(kind string, box *Mailbox, query url.Values) []string {
	return []string{kind, box.Address, query.Get("q"), strings.Join(query["labelIds"], ","), query.Get("includeSpamTrash")}
}

// parseListQuery reads the query of messages.list and threads.list: the
// filter (labelIds, q, includeSpamTrash) and the page size (maxResults).
// me is the signed-in account's address.
func (s *Server) parseListQuery(query url.Values, me string) (Filter, int, *apiError) {
	var filter Filter
	if apiErr := s.checkParams(query, "q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"); apiErr != nil {
		return filter, 0, apiErr
	}
	pageSize, apiErr := pageSizeParam(query, defaultPageSize)
	if apiErr != nil {
		return filter, 0, apiErr
	}
	for _, label := range query["labelIds"] {
		if !slices.Contains(SystemLabels, label) {
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
		if filter.Q, filter.Scope, apiErr = ParseQuery(q, SearchContext{Now: s.now(), Me: me}); apiErr != nil {
			return filter, 0, apiErr
		}
	}
	return filter, pageSize, nil
}

// getMessage is users.messages.get.
func (s *Server) getMessage(r *http.Request, box *Mailbox) (any, *apiError) {
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
	return message.resource(format, query["metadataHeaders"]), nil
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
func (s *Server) getProfile(r *http.Request, box *Mailbox) (any, *apiError) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		return nil, apiErr
	}
	box.Mu.RLock()
	defer box.Mu.RUnlock()
	return profileResponse{box.Address, len(box.Messages), box.ThreadsTotal(), strconv.FormatUint(box.HistoryID, 10)}, nil
}

// modifyMessage is users.messages.modify: labels added and removed, as
// reading (taking UNREAD off) or archiving (INBOX) does.
func (s *Server) modifyMessage(r *http.Request, box *Mailbox) (any, *apiError) {
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
	return m.resource(formatMinimal, nil), nil
}

// checkLabels refuses a label ID the mailbox does not have.
func checkLabels(labels []string) *apiError {
	for _, label := range labels {
		if !slices.Contains(SystemLabels, label) {
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
func (s *Server) insertMessage(r *http.Request, box *Mailbox) (any, *apiError) {
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
	m, apiErr := NewInsertedMessage(raw, request.LabelIDs, received, dateHeader)
	if apiErr != nil {
		return nil, apiErr
	}
	m.ID = s.ids.messageID(received)
	box.Mu.Lock()
	defer box.Mu.Unlock()
	if apiErr := box.RoomFor(m); apiErr != nil {
		return nil, apiErr
	}
	m.ThreadID = box.ReplyThread(m, request.ThreadID)
	box.Add(m)
	return m.resource(formatMinimal, nil), nil
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

// NewInsertedMessage is what messages.insert stores of raw: its headers and
// text decoded, its labels, and its internal date, received or, with
// dateHeader, its Date header's when it has one that parses, as Gmail
// falls back to the time received.
func NewInsertedMessage(raw []byte, labels []string, received time.Time, dateHeader bool) (*Message, *apiError) {
	parsed, apiErr := parseRawMessage(raw)
	if apiErr != nil {
		return nil, apiErr
	}
	m := &Message{InternalDate: received, Raw: raw, Labels: slices.Clone(labels),
		Headers: parsed.headers, Text: parsed.text, Attachments: parsed.attachments}
	if date, ok := m.HeaderValue("Date"); ok && dateHeader {
		if at, err := mail.ParseDate(date); err == nil {
			m.InternalDate = at
		}
	}
	m.Snippet = MakeSnippet(m.Text)
	return m, nil
}

// parsedMessage is what the sandbox keeps of an inserted message.
type parsedMessage struct {
	headers     []Header
	text        string
	attachments []Attachment
}

// parseRawMessage reads an RFC 5322 message: its headers in order, their
// values decoded from RFC 2047 encoded words as the Gmail API shows them,
// its plain text decoded from its charset, and its attachments.
func parseRawMessage(raw []byte) (parsedMessage, *apiError) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return parsedMessage{}, errInvalidArgument("Invalid RFC822 message: " + err.Error())
	}
	var parsed parsedMessage
	headerBlock, _, _ := bytes.Cut(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n\n"))
	for _, line := range strings.Split(string(headerBlock), "\n") {
		if len(parsed.headers) > 0 && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
			parsed.headers[len(parsed.headers)-1].Value += " " + strings.TrimSpace(line)
			continue
		}
		if name, value, ok := strings.Cut(line, ":"); ok {
			parsed.headers = append(parsed.headers, Header{Name: name, Value: strings.TrimSpace(value)})
		}
	}
	for i, h := range parsed.headers {
		parsed.headers[i].Value = strings.ToValidUTF8(encword.Decode(h.Value), "\uFFFD")
	}
	parsed.text, parsed.attachments = readBody(bodyHeaders(msg.Header), msg.Body, 0)
	return parsed, nil
}

// bodyHeaders are the headers of a message that readBody needs.
func bodyHeaders(h mail.Header) map[string]string {
	return map[string]string{
		"Content-Type":              h.Get("Content-Type"),
		"Content-Transfer-Encoding": h.Get("Content-Transfer-Encoding"),
		"Content-Disposition":       h.Get("Content-Disposition"),
	}
}

// maxPartDepth bounds how deep readBody follows multipart parts inside
// multipart parts; real mail nests two or three deep.
const maxPartDepth = 16

// readBody returns the plain text of a body at depth parts deep, and its
// attachments: the first text/plain part of a multipart message, and every
// part with a file name. Parts deeper than maxPartDepth are left out.
func readBody(h map[string]string, body io.Reader, depth int) (string, []Attachment) {
	mediaType, params, _ := mime.ParseMediaType(h["Content-Type"])
	if strings.HasPrefix(mediaType, "multipart/") && params["boundary"] != "" {
		if depth >= maxPartDepth {
			return "", nil
		}
		var text string
		var files []Attachment
		reader := multipart.NewReader(body, params["boundary"])
		for {
			part, err := reader.NextPart()
			if err != nil {
				break
			}
			partHeader := map[string]string{
				"Content-Type":              part.Header.Get("Content-Type"),
				"Content-Transfer-Encoding": part.Header.Get("Content-Transfer-Encoding"),
				"Content-Disposition":       part.Header.Get("Content-Disposition"),
			}
			if filename := part.FileName(); filename != "" {
				data, _ := io.ReadAll(decodeTransfer(partHeader["Content-Transfer-Encoding"], part))
				partType, _, _ := mime.ParseMediaType(partHeader["Content-Type"])
				files = append(files, Attachment{Filename: filename, MimeType: partType, Data: data})
				continue
			}
			partText, partFiles := readBody(partHeader, part, depth+1)
			if text == "" {
				text = partText
			}
			files = append(files, partFiles...)
		}
		return text, files
	}
	data, _ := io.ReadAll(io.LimitReader(decodeTransfer(h["Content-Transfer-Encoding"], body), maxBodyBytes))
	if mediaType != "" && mediaType != "text/plain" {
		return "", nil
	}
	return decodeCharset(params["charset"], data), nil
}

// decodeCharset decodes text in charset to UTF-8 with the charsets the
// encoded words of headers decode with; text in a charset none knows is
// kept as it came. Bytes that are not UTF-8 after that become U+FFFD.
func decodeCharset(charset string, text []byte) string {
	if charset != "" && !strings.EqualFold(charset, "utf-8") && !strings.EqualFold(charset, "us-ascii") {
		if reader, err := encword.CharsetReader(charset, bytes.NewReader(text)); err == nil {
			if decoded, err := io.ReadAll(reader); err == nil {
				text = decoded
			}
		}
	}
	return strings.ToValidUTF8(string(text), "\uFFFD")
}

// decodeTransfer undoes a Content-Transfer-Encoding.
func decodeTransfer(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &skipNewlines{r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// skipNewlines drops line ends, which base64 bodies are wrapped with.
type skipNewlines struct{ r io.Reader }

func (s *skipNewlines) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	kept := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[kept] = c
			kept++
		}
	}
	return kept, err
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
