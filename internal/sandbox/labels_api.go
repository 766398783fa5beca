package sandbox

import (
	"net/http"
	"slices"
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
var hiddenLabels = []string{labelUnread, labelStarred, labelImportant, labelChat}

func newLabelResource(id string) labelResource {
	label := labelResource{ID: id, Name: id, Type: "system"}
	if id == labelInbox || id == labelSent || id == labelDraft || id == labelSpam || id == labelTrash {
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
func (s *Server) listLabels(r *http.Request, _ *mailbox) (any, *apiError) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		return nil, apiErr
	}
	labels := make([]labelResource, len(systemLabels))
	for i, id := range systemLabels {
		labels[i] = newLabelResource(id)
	}
	return labelListResponse{labels}, nil
}

// getLabel is users.labels.get, with the label's counts.
func (s *Server) getLabel(r *http.Request, box *mailbox) (any, *apiError) {
	if apiErr := s.checkParams(r.URL.Query()); apiErr != nil {
		return nil, apiErr
	}
	id := r.PathValue("id")
	if !slices.Contains(systemLabels, id) {
		return nil, errNotFound()
	}
	box.mu.RLock()
	counts := box.counts(id)
	box.mu.RUnlock()
	label := newLabelResource(id)
	label.MessagesTotal, label.MessagesUnread = &counts.messagesTotal, &counts.messagesUnread
	label.ThreadsTotal, label.ThreadsUnread = &counts.threadsTotal, &counts.threadsUnread
	return label, nil
}
