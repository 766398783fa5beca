package gmailapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"gmailoauth/internal/sandbox/mailstore"
)

// historyTypes are the kinds of change history.list reports, as its
// historyTypes parameter names them.
const (
	historyMessageAdded = "messageAdded"
	historyLabelAdded   = "labelAdded"
	historyLabelRemoved = "labelRemoved"
)

type historyMessage struct {
	ID       string   `json:"id"`
	ThreadID string   `json:"threadId"`
	LabelIDs []string `json:"labelIds,omitempty"`
}

type historyLabelChange struct {
	Message  historyMessage `json:"message"`
	LabelIDs []string       `json:"labelIds"`
}

type historyEntry struct {
	ID            string       `json:"id"`
	Messages      []messageRef `json:"messages"`
	MessagesAdded []struct {
		Message historyMessage `json:"message"`
	} `json:"messagesAdded,omitempty"`
	LabelsAdded   []historyLabelChange `json:"labelsAdded,omitempty"`
	LabelsRemoved []historyLabelChange `json:"labelsRemoved,omitempty"`
}

// historyListResponse is a users.history.list answer.
type historyListResponse struct {
	History       []historyEntry `json:"history,omitempty"`
	NextPageToken string         `json:"nextPageToken,omitempty"`
	HistoryID     string         `json:"historyId"`
}

// listHistory is users.history.list: the mailbox's changes after
// startHistoryId, oldest first.
func (s *API) listHistory(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	query := r.URL.Query()
	if apiErr := s.checkParams(query, "startHistoryId", "labelId", "historyTypes", "maxResults", "pageToken"); apiErr != nil {
		return nil, apiErr
	}
	start, err := strconv.ParseUint(query.Get("startHistoryId"), 10, 64)
	if err != nil {
		return nil, errInvalidArgument("Invalid startHistoryId")
	}
	for _, kind := range query["historyTypes"] {
		if !slices.Contains([]string{historyMessageAdded, "messageDeleted", historyLabelAdded, historyLabelRemoved}, kind) {
			return nil, errInvalidArgument("Invalid value at 'history_types': " + kind)
		}
	}
	pageSize, apiErr := pageSizeParam(query, defaultPageSize)
	if apiErr != nil {
		return nil, apiErr
	}
	fingerprint := []string{"history", box.Address, query.Get("startHistoryId"), query.Get("labelId"), strings.Join(query["historyTypes"], ",")}
	first, apiErr := s.pageStart(query, fingerprint)
	if apiErr != nil {
		return nil, apiErr
	}
	box.Mu.RLock()
	defer box.Mu.RUnlock()
	changes, ok := box.ChangesSince(start)
	if !ok {
		return nil, errNotFound()
	}
	var entries []historyEntry
	for _, change := range changes {
		if entry, ok := historyEntryOf(change, query.Get("labelId"), query["historyTypes"]); ok {
			entries = append(entries, entry)
		}
	}
	from, to, next := s.pageEnd(first, pageSize, len(entries), fingerprint)
	return historyListResponse{entries[from:to], next, strconv.FormatUint(box.HistoryID, 10)}, nil
}

// historyEntryOf is the entry of change, unless labelID or kinds leave it
// out.
func historyEntryOf(change mailstore.HistoryRecord, labelID string, kinds []string) (historyEntry, bool) {
	m := change.Message
	if labelID != "" && !m.HasLabel(labelID) && !slices.Contains(change.LabelsRemoved, labelID) {
		return historyEntry{}, false
	}
	wants := func(kind string) bool { return len(kinds) == 0 || slices.Contains(kinds, kind) }
	ref := historyMessage{ID: m.ID, ThreadID: m.ThreadID, LabelIDs: slices.Clone(m.Labels)}
	entry := historyEntry{ID: strconv.FormatUint(change.ID, 10), Messages: []messageRef{{ID: m.ID, ThreadID: m.ThreadID}}}
	if change.Added && wants(historyMessageAdded) {
		entry.MessagesAdded = append(entry.MessagesAdded, struct {
			Message historyMessage `json:"message"`
		}{ref})
	}
	if len(change.LabelsAdded) > 0 && wants(historyLabelAdded) {
		entry.LabelsAdded = []historyLabelChange{{Message: ref, LabelIDs: change.LabelsAdded}}
	}
	if len(change.LabelsRemoved) > 0 && wants(historyLabelRemoved) {
		entry.LabelsRemoved = []historyLabelChange{{Message: ref, LabelIDs: change.LabelsRemoved}}
	}
	if len(entry.MessagesAdded)+len(entry.LabelsAdded)+len(entry.LabelsRemoved) == 0 {
		return historyEntry{}, false
	}
	return entry, true
}
