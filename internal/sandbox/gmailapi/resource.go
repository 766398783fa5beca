package gmailapi

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"gmailoauth/internal/sandbox/mailstore"
)

// Values of the format parameter of messages.get.
const (
	formatMinimal  = "minimal"
	formatMetadata = "metadata"
	formatFull     = "full"
	formatRaw      = "raw"
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
	PartID   *string            `json:"partId,omitempty"`
	MimeType string             `json:"mimeType"`
	Filename *string            `json:"filename,omitempty"`
	Headers  []mailstore.Header `json:"headers"`
	Body     *partBody          `json:"body,omitempty"`
	Parts    []messagePart      `json:"parts,omitempty"`
}

type partBody struct {
	AttachmentID string `json:"attachmentId,omitempty"`
	Size         int    `json:"size"`
	Data         string `json:"data,omitempty"`
}

// resource renders m in a messages.get format. metadataHeaders only applies
// to the metadata format; none means every header.
func resource(m *mailstore.Message, format string, metadataHeaders []string) messageResource {
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
		resource.Payload = &messagePart{MimeType: m.MimeType(), Headers: selectHeaders(m, metadataHeaders)}
	case formatFull:
		resource.Payload = fullPayload(m)
	case formatRaw:
		resource.Raw = base64.URLEncoding.EncodeToString(m.Raw)
	}
	return resource
}

func selectHeaders(m *mailstore.Message, names []string) []mailstore.Header {
	if len(names) == 0 {
		return m.Headers
	}
	selected := []mailstore.Header{}
	for _, h := range m.Headers {
		if slices.ContainsFunc(names, func(name string) bool { return strings.EqualFold(name, h.Name) }) {
			selected = append(selected, h)
		}
	}
	return selected
}

func fullPayload(m *mailstore.Message) *messagePart {
	root := &messagePart{PartID: ptr(""), MimeType: m.MimeType(), Filename: ptr(""), Headers: m.Headers}
	if len(m.Attachments) > 0 {
		// A message with attachments has a plain text part, then a part
		// for each file, whose content messages.attachments.get would give.
		root.Body = &partBody{}
		root.Parts = []messagePart{{PartID: ptr("0"), MimeType: "text/plain", Filename: ptr(""), Headers: mailstore.PartHeaders("text/plain"), Body: textBody(m.Text)}}
		for i, file := range m.Attachments {
			root.Parts = append(root.Parts, messagePart{
				PartID: ptr(strconv.Itoa(i + 1)), MimeType: file.MimeType, Filename: ptr(file.Filename), Headers: mailstore.AttachmentHeaders(file),
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
		{PartID: ptr("0"), MimeType: "text/plain", Filename: ptr(""), Headers: mailstore.PartHeaders("text/plain"), Body: textBody(m.Text)},
		{PartID: ptr("1"), MimeType: "text/html", Filename: ptr(""), Headers: mailstore.PartHeaders("text/html"), Body: textBody(m.HTML)},
	}
	return root
}

func ptr(s string) *string { return &s }

// textBody is a Gmail part body: base64url with padding, as Gmail sends it.
func textBody(text string) *partBody {
	return &partBody{Size: len(text), Data: base64.URLEncoding.EncodeToString([]byte(text))}
}
