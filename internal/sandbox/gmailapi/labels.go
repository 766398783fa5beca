package gmailapi

import (
	"net/http"
	"slices"

	"gmailoauth/internal/sandbox/mailstore"
)

// labelResource is a users.labels resource in Gmail's field order. A
// system label's name is its ID; labels.list leaves out the counts.
type labelResource struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	MessageListVisibility string `json:"messageListVisibility,omitempty"`
	LabelListVisibility   string `json:"labelListVisibility,omitempty"`
	Type                  string `json:"type"`
	MessagesTotal         *int   `json:"messagesTotal,omitempty"`
	MessagesUnread        *int   `json:"messagesUnread,omitempty"`
	ThreadsTotal          *int   `json:"threadsTotal,omitempty"`
	ThreadsUnread         *int   `json:"threadsUnread,omitempty"`
}

// hiddenLabels are the system labels Gmail keeps out of its label list.
var hiddenLabels = []string{mailstore.LabelUnread, mailstore.LabelStarred, mailstore.LabelImportant, mailstore.LabelChat}

func newLabelResource(id string) labelResource {
	label := labelResource{ID: id, Name: id, Type: "system"}
	if id == mailstore.LabelInbox || id == mailstore.LabelSent || id == mailstore.LabelDraft || id == mailstore.LabelSpam || id == mailstore.LabelTrash {
		label.MessageListVisibility, label.LabelListVisibility = "hide", "labelShow"
	}
	if slices.Contains(hiddenLabels, id) {
		label.LabelListVisibility = "labelHide"
	}
	return label
}

// labelListResponse is a users.labels.list answer.
type labelListResponse struct {
	Labels []labelResource `json:"labels"`
}

// listLabels is users.labels.list.
func (s *API) listLabels(r *http.Request, _ *mailstore.Mailbox) (any, *apiError) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		return nil, apiErr
	}
	labels := make([]labelResource, len(mailstore.SystemLabels))
	for i, id := range mailstore.SystemLabels {
		labels[i] = newLabelResource(id)
	}
	return labelListResponse{labels}, nil
}

// getLabel is users.labels.get, with the label's counts.
func (s *API) getLabel(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		return nil, apiErr
	}
	id := r.PathValue("id")
	if !slices.Contains(mailstore.SystemLabels, id) {
		return nil, errNotFound()
	}
	box.Mu.RLock()
	counts := box.Counts(id)
	box.Mu.RUnlock()
	label := newLabelResource(id)
	label.MessagesTotal, label.MessagesUnread = &counts.MessagesTotal, &counts.MessagesUnread
	label.ThreadsTotal, label.ThreadsUnread = &counts.ThreadsTotal, &counts.ThreadsUnread
	return label, nil
}
