package sandbox

import (
	"net/http"
	"strconv"
)

type threadRef struct {
	ID        string `json:"id"`
	Snippet   string `json:"snippet"`
	HistoryID string `json:"historyId"`
}

// listThreads is users.threads.list: the threads with a message that
// matches, the thread of the newest match first.
func (s *Server) listThreads(w http.ResponseWriter, r *http.Request, box *mailbox) {
	query := r.URL.Query()
	filter, pageSize, apiErr := s.parseListQuery(query, box.address)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.mu.RLock()
	defer box.mu.RUnlock()
	threads := box.threads(box.search(filter))
	start, end, next, apiErr := s.page(query, "threads\x00"+listFingerprint(box, query), pageSize, len(threads))
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	response := struct {
		Threads            []threadRef `json:"threads,omitempty"`
		NextPageToken      string      `json:"nextPageToken,omitempty"`
		ResultSizeEstimate int         `json:"resultSizeEstimate"`
	}{NextPageToken: next, ResultSizeEstimate: len(threads)}
	for _, thread := range threads[start:end] {
		newest := thread[len(thread)-1]
		response.Threads = append(response.Threads, threadRef{ID: newest.threadID, Snippet: newest.snippet, HistoryID: strconv.FormatUint(threadHistoryID(thread), 10)})
	}
	writeAPIJSON(w, r, http.StatusOK, response)
}

// threadHistoryID is a thread's history ID: its latest change's.
func threadHistoryID(thread []*message) uint64 {
	var id uint64
	for _, m := range thread {
		id = max(id, m.historyID)
	}
	return id
}

// getThread is users.threads.get: the thread's messages, oldest first.
func (s *Server) getThread(w http.ResponseWriter, r *http.Request, box *mailbox) {
	query := r.URL.Query()
	if apiErr := s.checkParams(query, "format", "metadataHeaders"); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	format, apiErr := formatParam(query)
	if apiErr != nil || format == formatRaw {
		writeAPIError(w, r, errInvalidArgument("Invalid value at 'format': threads.get takes minimal, metadata or full"))
		return
	}
	id, apiErr := s.pathID(r)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	box.mu.RLock()
	defer box.mu.RUnlock()
	thread := box.thread(id)
	if len(thread) == 0 {
		writeAPIError(w, r, errNotFound())
		return
	}
	response := struct {
		ID        string            `json:"id"`
		HistoryID string            `json:"historyId"`
		Messages  []messageResource `json:"messages"`
	}{ID: id, HistoryID: strconv.FormatUint(threadHistoryID(thread), 10)}
	for _, m := range thread {
		response.Messages = append(response.Messages, m.resource(format, query["metadataHeaders"]))
	}
	writeAPIJSON(w, r, http.StatusOK, response)
}
