package sandbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// messageResource is a users.messages resource in Gmail's field order.
type messageResource struct {
	ID           string       `json:"id"`
	ThreadID     string       `json:"threadId"`
	LabelIDs     []string     `json:"labelIds,omitempty"`
	Snippet      string       `json:"snippet"`
	Payload      *messagePart `json:"payload,omitempty"`
	SizeEstimate int          `json:"sizeEstimate"`
	HistoryID    string       `json:"historyId"`
	InternalDate string       `json:"internalDate"`
	Raw          string       `json:"raw,omitempty"`
}

type messagePart struct {
	PartID   *string       `json:"partId,omitempty"`
	MimeType string        `json:"mimeType"`
	Filename *string       `json:"filename,omitempty"`
	Headers  []header      `json:"headers"`
	Body     *partBody     `json:"body,omitempty"`
	Parts    []messagePart `json:"parts,omitempty"`
}

type partBody struct {
	AttachmentID string `json:"attachmentId,omitempty"`
	Size         int    `json:"size"`
	Data         string `json:"data,omitempty"`
}

// resource renders m in a messages.get format. metadataHeaders only applies
// to the metadata format; none means every header.
func (m *message) resource(format string, metadataHeaders []string) messageResource {
	resource := messageResource{
		ID:           m.id,
		ThreadID:     m.threadID,
		LabelIDs:     slices.Clone(m.labels), // they change under the mailbox's lock
		Snippet:      m.snippet,
		SizeEstimate: len(m.raw),
		HistoryID:    strconv.FormatUint(m.historyID, 10),
		InternalDate: strconv.FormatInt(m.internalDate.UnixMilli(), 10),
	}
	switch format {
	case formatMetadata:
		resource.Payload = &messagePart{MimeType: m.mimeType(), Headers: m.selectHeaders(metadataHeaders)}
	case formatFull:
		resource.Payload = m.fullPayload()
	case formatRaw:
		resource.Raw = base64.URLEncoding.EncodeToString(m.raw)
	}
	return resource
}

func (m *message) mimeType() string {
	switch {
	case len(m.attachments) > 0:
		return "multipart/mixed"
	case m.html != "":
		return "multipart/alternative"
	}
	return "text/plain"
}

func (m *message) selectHeaders(names []string) []header {
	if len(names) == 0 {
		return m.headers
	}
	selected := []header{}
	for _, h := range m.headers {
		if slices.ContainsFunc(names, func(name string) bool { return strings.EqualFold(name, h.Name) }) {
			selected = append(selected, h)
		}
	}
	return selected
}

func (m *message) fullPayload() *messagePart {
	root := &messagePart{PartID: ptr(""), MimeType: m.mimeType(), Filename: ptr(""), Headers: m.headers}
	if len(m.attachments) > 0 {
		// A message with attachments has a plain text part, then a part
		// for each file, whose content messages.attachments.get would give.
		root.Body = &partBody{}
		root.Parts = []messagePart{{PartID: ptr("0"), MimeType: "text/plain", Filename: ptr(""), Headers: partHeaders("text/plain"), Body: textBody(m.text)}}
		for i, file := range m.attachments {
			root.Parts = append(root.Parts, messagePart{
				PartID: ptr(strconv.Itoa(i + 1)), MimeType: file.mimeType, Filename: ptr(file.filename), Headers: attachmentHeaders(file),
				Body: &partBody{AttachmentID: m.id + "." + strconv.Itoa(i+1), Size: len(file.data)},
			})
		}
		return root
	}
	if m.html == "" {
		root.Body = textBody(m.text)
		return root
	}
	root.Body = &partBody{}
	root.Parts = []messagePart{
		{PartID: ptr("0"), MimeType: "text/plain", Filename: ptr(""), Headers: partHeaders("text/plain"), Body: textBody(m.text)},
		{PartID: ptr("1"), MimeType: "text/html", Filename: ptr(""), Headers: partHeaders("text/html"), Body: textBody(m.html)},
	}
	return root
}

func ptr(s string) *string { return &s }

func partHeaders(mimeType string) []header {
	return []header{
		{Name: "Content-Type", Value: mimeType + `; charset="UTF-8"`},
		{Name: "Content-Transfer-Encoding", Value: "base64"},
	}
}

// attachmentHeaders are the headers of a file's part.
func attachmentHeaders(file attachment) []header {
	return []header{
		{Name: "Content-Type", Value: file.mimeType + `; name="` + file.filename + `"`},
		{Name: "Content-Disposition", Value: `attachment; filename="` + file.filename + `"`},
		{Name: "Content-Transfer-Encoding", Value: "base64"},
	}
}

// textBody is a Gmail part body: base64url with padding, as Gmail sends it.
func textBody(text string) *partBody {
	return &partBody{Size: len(text), Data: base64.URLEncoding.EncodeToString([]byte(text))}
}

// makeSnippet derives Gmail's snippet from the plain text: whitespace folded,
// cut to about 140 characters, and HTML-escaped (Gmail escapes snippets).
func makeSnippet(text string) string {
	folded := strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(folded) > snippetRunes {
		folded = string([]rune(folded)[:snippetRunes])
	}
	return snippetEscaper.Replace(folded)
}

var snippetEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// buildRaw renders m as an RFC 5322 message: non-ASCII header values are
// RFC 2047-encoded and bodies base64-encoded, as a mail server would store them.
func (m *message) buildRaw() []byte {
	var raw bytes.Buffer
	for _, h := range m.headers {
		fmt.Fprintf(&raw, "%s: %s\r\n", h.Name, encodeHeaderValue(h.Name, h.Value))
	}
	raw.WriteString("\r\n")
	if len(m.attachments) > 0 {
		fmt.Fprintf(&raw, "--%s\r\n", m.boundary)
		for _, h := range partHeaders("text/plain") {
			fmt.Fprintf(&raw, "%s: %s\r\n", h.Name, h.Value)
		}
		raw.WriteString("\r\n")
		writeBase64Lines(&raw, m.text)
		for _, file := range m.attachments {
			fmt.Fprintf(&raw, "--%s\r\n", m.boundary)
			for _, h := range attachmentHeaders(file) {
				fmt.Fprintf(&raw, "%s: %s\r\n", h.Name, h.Value)
			}
			raw.WriteString("\r\n")
			writeBase64Lines(&raw, string(file.data))
		}
		fmt.Fprintf(&raw, "--%s--\r\n", m.boundary)
		return raw.Bytes()
	}
	if m.html == "" {
		writeBase64Lines(&raw, m.text)
		return raw.Bytes()
	}
	for _, part := range []struct{ mimeType, content string }{{"text/plain", m.text}, {"text/html", m.html}} {
		fmt.Fprintf(&raw, "--%s\r\n", m.boundary)
		for _, h := range partHeaders(part.mimeType) {
			fmt.Fprintf(&raw, "%s: %s\r\n", h.Name, h.Value)
		}
		raw.WriteString("\r\n")
		writeBase64Lines(&raw, part.content)
	}
	fmt.Fprintf(&raw, "--%s--\r\n", m.boundary)
	return raw.Bytes()
}

func encodeHeaderValue(name, value string) string {
	if isASCII(value) {
		return value
	}
	switch strings.ToLower(name) {
	case "from", "to", "cc", "reply-to":
		if addresses, err := mail.ParseAddressList(value); err == nil {
			encoded := make([]string, len(addresses))
			for i, address := range addresses {
				encoded[i] = address.String()
			}
			return strings.Join(encoded, ", ")
		}
	}
	return mime.BEncoding.Encode("UTF-8", value)
}

func isASCII(s string) bool {
	for _, c := range []byte(s) {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func writeBase64Lines(raw *bytes.Buffer, content string) {
	encoded := base64.StdEncoding.EncodeToString([]byte(content))
	for len(encoded) > 76 {
		raw.WriteString(encoded[:76] + "\r\n")
		encoded = encoded[76:]
	}
	raw.WriteString(encoded + "\r\n")
}
