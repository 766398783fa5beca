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
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, box *mailbox) {
	query := r.URL.Query()
	filter, pageSize, apiErr := s.parseListQuery(query, box.address)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.mu.RLock()
	defer box.mu.RUnlock()
	matches := box.search(filter)
	start, end, next, apiErr := s.page(query, listFingerprint(box, query), pageSize, len(matches))
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	response := listResponse{ResultSizeEstimate: len(matches), NextPageToken: next}
	for _, m := range matches[start:end] {
		response.Messages = append(response.Messages, messageRef{ID: m.id, ThreadID: m.threadID})
	}
	writeAPIJSON(w, r, http.StatusOK, response)
}

// listFingerprint is what a page token of a list is bound to: the mailbox
// and the query.
func listFingerprint(box *mailbox, query url.Values) string {
	return strings.Join([]string{box.address, query.Get("q"), strings.Join(query["labelIds"], ","), query.Get("includeSpamTrash")}, "\x00")
}

// parseListQuery reads the query of messages.list and threads.list: the
// filter (labelIds, q, includeSpamTrash) and the page size (maxResults).
// me is the signed-in account's address.
func (s *Server) parseListQuery(query url.Values, me string) (messageFilter, int, *apiError) {
	var filter messageFilter
	if apiErr := s.checkParams(query, "q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"); apiErr != nil {
		return filter, 0, apiErr
	}
	pageSize, apiErr := pageSizeParam(query, defaultPageSize)
	if apiErr != nil {
		return filter, 0, apiErr
	}
	for _, label := range query["labelIds"] {
		if !slices.Contains(systemLabels, label) {
			return filter, 0, errInvalidArgument("Invalid label: " + label)
		}
		filter.labels = append(filter.labels, label)
	}
	switch query.Get("includeSpamTrash") {
	case "", "false":
	case "true":
		filter.includeSpamTrash = true
	default:
		return filter, 0, errInvalidArgument(fmt.Sprintf("Invalid value at 'include_spam_trash' (TYPE_BOOL), %q", query.Get("includeSpamTrash")))
	}
	if q := query.Get("q"); q != "" {
		if filter.q, filter.scope, apiErr = parseQuery(q, searchContext{now: s.now(), me: me}); apiErr != nil {
			return filter, 0, apiErr
		}
	}
	return filter, pageSize, nil
}

// getMessage is users.messages.get.
func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, box *mailbox) {
	query := r.URL.Query()
	if apiErr := s.checkParams(query, "format", "metadataHeaders"); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	format, apiErr := formatParam(query)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	id, apiErr := s.pathID(r)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.mu.RLock()
	defer box.mu.RUnlock()
	message, ok := box.byID[id]
	if !ok {
		writeAPIError(w, r, errNotFound())
		return
	}
	writeAPIJSON(w, r, http.StatusOK, message.resource(format, query["metadataHeaders"]))
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

// getProfile is users.getProfile.
func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, box *mailbox) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.mu.RLock()
	defer box.mu.RUnlock()
	writeAPIJSON(w, r, http.StatusOK, struct {
		EmailAddress  string `json:"emailAddress"`
		MessagesTotal int    `json:"messagesTotal"`
		ThreadsTotal  int    `json:"threadsTotal"`
		HistoryID     string `json:"historyId"`
	}{box.address, len(box.messages), box.threadsTotal(), strconv.FormatUint(box.historyID, 10)})
}

// modifyMessage is users.messages.modify: labels added and removed, as
// reading (taking UNREAD off) or archiving (INBOX) does.
func (s *Server) modifyMessage(w http.ResponseWriter, r *http.Request, box *mailbox) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	var change struct {
		AddLabelIDs    []string `json:"addLabelIds"`
		RemoveLabelIDs []string `json:"removeLabelIds"`
	}
	if apiErr := readJSON(w, r, &change); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	for _, label := range slices.Concat(change.AddLabelIDs, change.RemoveLabelIDs) {
		if !slices.Contains(systemLabels, label) {
			writeAPIError(w, r, errInvalidArgument("Invalid label: "+label))
			return
		}
	}
	id, apiErr := s.pathID(r)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	m, ok := box.byID[id]
	if !ok {
		writeAPIError(w, r, errNotFound())
		return
	}
	box.relabel(m, change.AddLabelIDs, change.RemoveLabelIDs)
	writeAPIJSON(w, r, http.StatusOK, m.resource(formatMinimal, nil))
}

// insertMessage is users.messages.insert: a message, in RFC 5322 form,
// put straight into the mailbox with the labels given, as IMAP APPEND
// does. The message is sent as JSON ({"raw": …}); the upload protocol
// for large ones is not served.
func (s *Server) insertMessage(w http.ResponseWriter, r *http.Request, box *mailbox) {
	query := r.URL.Query()
	if apiErr := s.checkParams(query, "internalDateSource", "deleted"); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	var request struct {
		Raw      string   `json:"raw"`
		LabelIDs []string `json:"labelIds"`
	}
	if apiErr := readJSON(w, r, &request); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	raw, err := base64.URLEncoding.DecodeString(request.Raw)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(request.Raw)
	}
	if err != nil || len(raw) == 0 {
		writeAPIError(w, r, errInvalidArgument("'raw' RFC822 payload message string or uploading message via /upload/* URL required"))
		return
	}
	for _, label := range request.LabelIDs {
		if !slices.Contains(systemLabels, label) {
			writeAPIError(w, r, errInvalidArgument("Invalid label: "+label))
			return
		}
	}
	parsed, apiErr := parseRawMessage(raw)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	m := &message{id: s.ids.messageID(s.now()), internalDate: s.now(), raw: raw, labels: slices.Clone(request.LabelIDs),
		headers: parsed.headers, text: parsed.text, attachments: parsed.attachments}
	m.threadID = m.id
	if query.Get("internalDateSource") == "dateHeader" {
		if date, ok := m.headerValue("Date"); ok {
			if at, err := mail.ParseDate(date); err == nil {
				m.internalDate = at
			}
		}
	}
	m.snippet = makeSnippet(m.text)
	if apiErr := box.roomFor(m); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.add(m)
	writeAPIJSON(w, r, http.StatusOK, m.resource(formatMinimal, nil))
}

// parsedMessage is what the sandbox keeps of an inserted message.
type parsedMessage struct {
	headers     []header
	text        string
	attachments []attachment
}

// parseRawMessage reads an RFC 5322 message: its headers in order, its
// plain text, and its attachments.
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
			parsed.headers = append(parsed.headers, header{Name: name, Value: strings.TrimSpace(value)})
		}
	}
	parsed.text, parsed.attachments = readBody(bodyHeaders(msg.Header), msg.Body)
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

// readBody returns the plain text of a body, and its attachments: the
// first text/plain part of a multipart message, and every part with a
// file name.
func readBody(h map[string]string, body io.Reader) (string, []attachment) {
	mediaType, params, _ := mime.ParseMediaType(h["Content-Type"])
	if strings.HasPrefix(mediaType, "multipart/") && params["boundary"] != "" {
		var text string
		var files []attachment
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
				files = append(files, attachment{filename: filename, mimeType: partType, data: data})
				continue
			}
			partText, partFiles := readBody(partHeader, part)
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
	return string(data), nil
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
func readJSON(w http.ResponseWriter, r *http.Request, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return errInvalidArgument(fmt.Sprintf("The request body could not be read (the sandbox takes up to %d bytes): %v", maxBodyBytes, err))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errInvalidArgument("Invalid JSON payload received. " + err.Error())
	}
	return nil
}
