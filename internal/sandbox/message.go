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
	Headers  []Header      `json:"headers"`
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
func (m *Message) resource(format string, metadataHeaders []string) messageResource {
	resource := messageResource{
		ID:           m.ID,
		ThreadID:     m.ThreadID,
		LabelIDs:     slices.Clone(m.Labels), // they change under the mailbox's lock
		Snippet:      m.Snippet,
		SizeEstimate: len(m.Raw),
		HistoryID:    strconv.FormatUint(m.HistoryID, 10),
		InternalDate: strconv.FormatInt(m.InternalDate.UnixMilli(), 10),
	}
	switch format {
	case formatMetadata:
		resource.Payload = &messagePart{MimeType: m.MimeType(), Headers: m.selectHeaders(metadataHeaders)}
	case formatFull:
		resource.Payload = m.fullPayload()
	case formatRaw:
		resource.Raw = base64.URLEncoding.EncodeToString(m.Raw)
	}
	return resource
}

func (m *Message) MimeType() string {
	switch {
	case len(m.Attachments) > 0:
		return "multipart/mixed"
	case m.HTML != "":
		return "multipart/alternative"
	}
	return "text/plain"
}

func (m *Message) selectHeaders(names []string) []Header {
	if len(names) == 0 {
		return m.Headers
	}
	selected := []Header{}
	for _, h := range m.Headers {
		if slices.ContainsFunc(names, func(name string) bool { return strings.EqualFold(name, h.Name) }) {
			selected = append(selected, h)
		}
	}
	return selected
}

func (m *Message) fullPayload() *messagePart {
	root := &messagePart{PartID: ptr(""), MimeType: m.MimeType(), Filename: ptr(""), Headers: m.Headers}
	if len(m.Attachments) > 0 {
		// A message with attachments has a plain text part, then a part
		// for each file, whose content messages.attachments.get would give.
		root.Body = &partBody{}
		root.Parts = []messagePart{{PartID: ptr("0"), MimeType: "text/plain", Filename: ptr(""), Headers: PartHeaders("text/plain"), Body: textBody(m.Text)}}
		for i, file := range m.Attachments {
			root.Parts = append(root.Parts, messagePart{
				PartID: ptr(strconv.Itoa(i + 1)), MimeType: file.MimeType, Filename: ptr(file.Filename), Headers: AttachmentHeaders(file),
				Body: &partBody{AttachmentID: m.ID + "." + strconv.Itoa(i+1), Size: len(file.Data)},
			})
		}
		return root
	}
	if m.HTML == "" {
		root.Body = textBody(m.Text)
		return root
	}
	root.Body = &partBody{}
	root.Parts = []messagePart{
		{PartID: ptr("0"), MimeType: "text/plain", Filename: ptr(""), Headers: PartHeaders("text/plain"), Body: textBody(m.Text)},
		{PartID: ptr("1"), MimeType: "text/html", Filename: ptr(""), Headers: PartHeaders("text/html"), Body: textBody(m.HTML)},
	}
	return root
}

func ptr(s string) *string { return &s }

func PartHeaders(mimeType string) []Header {
	return []Header{
		{Name: "Content-Type", Value: mimeType + `; charset="UTF-8"`},
		{Name: "Content-Transfer-Encoding", Value: "base64"},
	}
}

// AttachmentHeaders are the headers of a file's part.
func AttachmentHeaders(file Attachment) []Header {
	return []Header{
		{Name: "Content-Type", Value: file.MimeType + `; name="` + file.Filename + `"`},
		{Name: "Content-Disposition", Value: `attachment; filename="` + file.Filename + `"`},
		{Name: "Content-Transfer-Encoding", Value: "base64"},
	}
}

// textBody is a Gmail part body: base64url with padding, as Gmail sends it.
func textBody(text string) *partBody {
	return &partBody{Size: len(text), Data: base64.URLEncoding.EncodeToString([]byte(text))}
}

// MakeSnippet derives Gmail's snippet from the plain text: whitespace folded,
// cut to about 140 characters, and HTML-escaped (Gmail escapes snippets).
func MakeSnippet(text string) string {
	folded := strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(folded) > snippetRunes {
		folded = string([]rune(folded)[:snippetRunes])
	}
	return snippetEscaper.Replace(folded)
}

var snippetEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// buildRaw renders m as an RFC 5322 message: non-ASCII header values are
// RFC 2047-encoded and bodies base64-encoded, as a mail server would store them.
func (m *Message) buildRaw() []byte {
	var raw bytes.Buffer
	for _, h := range m.Headers {
		fmt.Fprintf(&raw, "%s: %s\r\n", h.Name, encodeHeaderValue(h.Name, h.Value))
	}
	raw.WriteString("\r\n")
	if len(m.Attachments) > 0 {
		fmt.Fprintf(&raw, "--%s\r\n", m.boundary)
		for _, h := range PartHeaders("text/plain") {
			fmt.Fprintf(&raw, "%s: %s\r\n", h.Name, h.Value)
		}
		raw.WriteString("\r\n")
		writeBase64Lines(&raw, m.Text)
		for _, file := range m.Attachments {
			fmt.Fprintf(&raw, "--%s\r\n", m.boundary)
			for _, h := range AttachmentHeaders(file) {
				fmt.Fprintf(&raw, "%s: %s\r\n", h.Name, h.Value)
			}
			raw.WriteString("\r\n")
			writeBase64Lines(&raw, string(file.Data))
		}
		fmt.Fprintf(&raw, "--%s--\r\n", m.boundary)
		return raw.Bytes()
	}
	if m.HTML == "" {
		writeBase64Lines(&raw, m.Text)
		return raw.Bytes()
	}
	for _, part := range []struct{ mimeType, content string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		fmt.Fprintf(&raw, "--%s\r\n", m.boundary)
		for _, h := range PartHeaders(part.mimeType) {
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
