package sandbox

import (
	"net/http"
	"slices"
	"strconv"
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

// listHistory is users.history.list: the mailbox's changes after
// startHistoryId, oldest first.
func (s *Server) listHistory(w http.ResponseWriter, r *http.Request, box *mailbox) {
	query := r.URL.Query()
	if apiErr := s.checkParams(query, "startHistoryId", "labelId", "historyTypes", "maxResults", "pageToken"); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	start, err := strconv.ParseUint(query.Get("startHistoryId"), 10, 64)
	if err != nil {
		writeAPIError(w, r, errInvalidArgument("Invalid startHistoryId"))
		return
	}
	for _, kind := range query["historyTypes"] {
		if !slices.Contains([]string{historyMessageAdded, "messageDeleted", historyLabelAdded, historyLabelRemoved}, kind) {
			writeAPIError(w, r, errInvalidArgument("Invalid value at 'history_types': "+kind))
			return
		}
	}
	pageSize, apiErr := pageSizeParam(query, defaultPageSize)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.mu.RLock()
	defer box.mu.RUnlock()
	changes, ok := box.changesSince(start)
	if !ok {
		writeAPIError(w, r, errNotFound())
		return
	}
	var entries []historyEntry
	for _, change := range changes {
		if entry, ok := historyEntryOf(change, query.Get("labelId"), query["historyTypes"]); ok {
			entries = append(entries, entry)
		}
	}
	from, to, next, apiErr := s.page(query, "history\x00"+box.address+"\x00"+query.Encode(), pageSize, len(entries))
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	writeAPIJSON(w, r, http.StatusOK, struct {
		History       []historyEntry `json:"history,omitempty"`
		NextPageToken string         `json:"nextPageToken,omitempty"`
		HistoryID     string         `json:"historyId"`
	}{entries[from:to], next, strconv.FormatUint(box.historyID, 10)})
}

// historyEntryOf is the entry of change, unless labelID or kinds leave it
// out.
func historyEntryOf(change historyRecord, labelID string, kinds []string) (historyEntry, bool) {
	m := change.message
	if labelID != "" && !m.hasLabel(labelID) && !slices.Contains(change.labelsRemoved, labelID) {
		return historyEntry{}, false
	}
	wants := func(kind string) bool { return len(kinds) == 0 || slices.Contains(kinds, kind) }
	ref := historyMessage{ID: m.id, ThreadID: m.threadID, LabelIDs: m.labels}
	entry := historyEntry{ID: strconv.FormatUint(change.id, 10), Messages: []messageRef{{ID: m.id, ThreadID: m.threadID}}}
	if change.added && wants(historyMessageAdded) {
		entry.MessagesAdded = append(entry.MessagesAdded, struct {
			Message historyMessage `json:"message"`
		}{ref})
	}
	if len(change.labelsAdded) > 0 && wants(historyLabelAdded) {
		entry.LabelsAdded = []historyLabelChange{{Message: ref, LabelIDs: change.labelsAdded}}
	}
	if len(change.labelsRemoved) > 0 && wants(historyLabelRemoved) {
		entry.LabelsRemoved = []historyLabelChange{{Message: ref, LabelIDs: change.labelsRemoved}}
	}
	if len(entry.MessagesAdded)+len(entry.LabelsAdded)+len(entry.LabelsRemoved) == 0 {
		return historyEntry{}, false
	}
	return entry, true
}
