package mailstore

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// MimeType is the media type of m as a whole: multipart when it has
// attachments or HTML, else plain text.
func (m *Message) MimeType() string {
	switch {
	case len(m.Attachments) > 0:
		return "multipart/mixed"
	case m.HTML != "":
		return "multipart/alternative"
	}
	return "text/plain"
}

// PartHeaders are the headers of a text part of mimeType, in the raw
// message and in the Gmail API's payload alike.
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
