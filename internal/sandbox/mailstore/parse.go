package mailstore

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"time"

	"gmailoauth/internal/encword"
)

// NewInsertedMessage is what messages.insert stores of raw: its headers and
// text decoded, its labels, and its internal date, received or, with
// dateHeader, its Date header's when it has one that parses, as Gmail
// falls back to the time received.
func NewInsertedMessage(raw []byte, labels []string, received time.Time, dateHeader bool) (*Message, error) {
	parsed, err := parseRawMessage(raw)
	if err != nil {
		return nil, err
	}
	m := &Message{InternalDate: received, Raw: raw, Labels: slices.Clone(labels),
		Headers: parsed.headers, Text: parsed.text, Attachments: parsed.attachments}
	if date, ok := m.HeaderValue("Date"); ok && dateHeader {
		if at, err := mail.ParseDate(date); err == nil {
			m.InternalDate = at
		}
	}
	m.Snippet = makeSnippet(m.Text)
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
func parseRawMessage(raw []byte) (parsedMessage, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return parsedMessage{}, fmt.Errorf("invalid RFC822 message: %w", err)
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

// maxTextBytes bounds the text read from one part; the API takes no
// larger message.
const maxTextBytes = 4 << 20

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
	data, _ := io.ReadAll(io.LimitReader(decodeTransfer(h["Content-Transfer-Encoding"], body), maxTextBytes))
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
