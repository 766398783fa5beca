package gmailapi

import (
	"net/http"
	"strconv"

	"gmailoauth/internal/sandbox/mailstore"
)

type threadRef struct {
	ID        string `json:"id"`
	Snippet   string `json:"snippet"`
	HistoryID string `json:"historyId"`
}

// threadListResponse is a users.threads.list answer.
type threadListResponse struct {
	Threads            []threadRef `json:"threads,omitempty"`
	NextPageToken      string      `json:"nextPageToken,omitempty"`
	ResultSizeEstimate int         `json:"resultSizeEstimate"`
}

// threadResource is a users.threads resource, as threads.get answers.
type threadResource struct {
	ID        string            `json:"id"`
	HistoryID string            `json:"historyId"`
	Messages  []messageResource `json:"messages"`
}

// listThreads is users.threads.list: the threads with a message that
// matches, the thread of the newest match first.
func (s *API) listThreads(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	query := r.URL.Query()
	filter, pageSize, apiErr := s.parseListQuery(query, box.Address)
	if apiErr != nil {
		return nil, apiErr
	}
	fingerprint := listFingerprint("threads", box, query)
	start, apiErr := s.pageStart(query, fingerprint)
	if apiErr != nil {
		return nil, apiErr
	}
	box.Mu.RLock()
	defer box.Mu.RUnlock()
	threads := box.Threads(box.Search(filter))
	from, to, next := s.pageEnd(start, pageSize, len(threads), fingerprint)
	response := threadListResponse{NextPageToken: next, ResultSizeEstimate: len(threads)}
	for _, thread := range threads[from:to] {
		newest := thread[len(thread)-1]
		response.Threads = append(response.Threads, threadRef{ID: newest.ThreadID, Snippet: newest.Snippet, HistoryID: strconv.FormatUint(threadHistoryID(thread), 10)})
	}
	return response, nil
}

// threadHistoryID is a thread's history ID: its latest change's.
func threadHistoryID(thread []*mailstore.Message) uint64 {
	var id uint64
	for _, m := range thread {
		id = max(id, m.HistoryID)
	}
	return id
}

// getThread is users.threads.get: the thread's messages, oldest first.
// Its formats are messages.get's but raw, as in Google's discovery
// document.
func (s *API) getThread(r *http.Request, box *mailstore.Mailbox) (any, *apiError) {
	query := r.URL.Query()
	if apiErr := s.checkParams(query, "format", "metadataHeaders"); apiErr != nil {
		return nil, apiErr
	}
	format, apiErr := formatParam(query)
	if apiErr != nil || format == formatRaw {
		return nil, errInvalidArgument("Invalid value at 'format': threads.get takes minimal, metadata or full")
	}
	id, apiErr := s.pathID(r)
	if apiErr != nil {
		return nil, apiErr
	}
	box.Mu.RLock()
	defer box.Mu.RUnlock()
	thread := box.Thread(id)
	if len(thread) == 0 {
		return nil, errNotFound()
	}
	response := threadResource{ID: id, HistoryID: strconv.FormatUint(threadHistoryID(thread), 10)}
	for _, m := range thread {
		response.Messages = append(response.Messages, resource(m, format, query["metadataHeaders"]))
	}
	return response, nil
}
