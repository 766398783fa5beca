package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Gmail call kinds, as named in Fault.Call.
const (
	callList    = "list"
	callGet     = "get"
	callProfile = "profile"
	callBatch   = "batch"
)

const (
	defaultPageSize = 100
	maxPageSize     = 500
)

// gmailMethods are the methods a browser may use on the Gmail API.
const gmailMethods = "DELETE, GET, HEAD, PATCH, POST, PUT"

// apiError is the body of a Google API error, field for field.
type apiError struct {
	Code    int         `json:"code"`
	Message string      `json:"message"`
	Errors  []errorItem `json:"errors"`
	Status  string      `json:"status"`
	// header holds extra response headers such as WWW-Authenticate.
	header http.Header
}

type errorItem struct {
	Message      string `json:"message"`
	Domain       string `json:"domain"`
	Reason       string `json:"reason"`
	Location     string `json:"location,omitempty"`
	LocationType string `json:"locationType,omitempty"`
}

const invalidCredentialsMessage = "Request had invalid authentication credentials. Expected OAuth 2 access token, " +
	"login cookie or other valid authentication credential. " +
	"See https://developers.google.com/identity/sign-in/web/devconsole-project."

// newAPIError is an error with one item whose message is the error's own,
// the shape of most of Google's API errors.
func newAPIError(code int, status, domain, reason, message string) *apiError {
	return &apiError{
		Code:    code,
		Message: message,
		Errors:  []errorItem{{Message: message, Domain: domain, Reason: reason}},
		Status:  status,
	}
}

func errMissingCredentials() *apiError {
	return &apiError{
		Code: http.StatusUnauthorized,
		Message: "Request is missing required authentication credential. Expected OAuth 2 access token, " +
			"login cookie or other valid authentication credential. " +
			"See https://developers.google.com/identity/sign-in/web/devconsole-project.",
		Errors: []errorItem{{Message: "Login Required.", Domain: "global", Reason: "required",
			Location: "Authorization", LocationType: "header"}},
		Status: "UNAUTHENTICATED",
		header: http.Header{"Www-Authenticate": {`Bearer realm="https://accounts.google.com/"`}},
	}
}

func errInvalidCredentials() *apiError {
	return &apiError{
		Code:    http.StatusUnauthorized,
		Message: invalidCredentialsMessage,
		Errors: []errorItem{{Message: "Invalid Credentials", Domain: "global", Reason: "authError",
			Location: "Authorization", LocationType: "header"}},
		Status: "UNAUTHENTICATED",
		header: http.Header{"Www-Authenticate": {`Bearer realm="https://accounts.google.com/", error="invalid_token"`}},
	}
}

func errInsufficientScope() *apiError {
	return &apiError{
		Code:    http.StatusForbidden,
		Message: "Request had insufficient authentication scopes.",
		Errors:  []errorItem{{Message: "Insufficient Permission", Domain: "global", Reason: "insufficientPermissions"}},
		Status:  "PERMISSION_DENIED",
		header: http.Header{"Www-Authenticate": {`Bearer realm="https://accounts.google.com/", error="insufficient_scope", ` +
			`scope="` + GmailScope + `"`}},
	}
}

func errDelegationDenied(account string) *apiError {
	message := "Delegation denied for " + account
	return newAPIError(http.StatusForbidden, "PERMISSION_DENIED", "global", "forbidden", message)
}

func errNotFound() *apiError {
	const message = "Requested entity was not found."
	return newAPIError(http.StatusNotFound, "NOT_FOUND", "global", "notFound", message)
}

func errInvalidArgument(message string) *apiError {
	return newAPIError(http.StatusBadRequest, "INVALID_ARGUMENT", "global", "invalidArgument", message)
}

func errMethodNotAllowed(method string) *apiError {
	message := "Method " + method + " is not allowed on this resource; the sandbox's Gmail API is read-only."
	return &apiError{
		Code:    http.StatusMethodNotAllowed,
		Message: message,
		Errors:  []errorItem{{Message: message, Domain: "global", Reason: "methodNotAllowed"}},
		Status:  "INVALID_ARGUMENT",
		header:  http.Header{"Allow": {"GET"}},
	}
}

// Reasons of Gmail's rate-limit errors, as "Resolve errors" and "Usage
// limits" in Gmail's guides name them: the project's limit and one user's.
const (
	reasonRateLimit     = "rateLimitExceeded"
	reasonUserRateLimit = "userRateLimitExceeded"
)

// errRateLimited is Gmail's 403 for an exhausted quota, body for body as
// "Resolve errors" shows it, plus the status field Google now adds. Unlike
// insufficientPermissions, waiting helps.
func errRateLimited(reason string) *apiError {
	message := "Rate Limit Exceeded"
	if reason == reasonUserRateLimit {
		message = "User Rate Limit Exceeded"
	}
	return newAPIError(http.StatusForbidden, "PERMISSION_DENIED", "usageLimits", reason, message)
}

// errTooManyRequests is Gmail's 429, sent when one user has too many
// requests in flight or used up a per-user limit.
func errTooManyRequests() *apiError {
	const message = "Too many concurrent requests for user."
	return newAPIError(http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "usageLimits", reasonRateLimit, message)
}

// errForStatus is the error Google sends with status, used by injected
// faults. A 403 is insufficientPermissions unless reason names a rate limit.
func errForStatus(status int, reason string) *apiError {
	switch status {
	case http.StatusUnauthorized:
		return errInvalidCredentials()
	case http.StatusForbidden:
		if reason != "" {
			return errRateLimited(reason)
		}
		return errInsufficientScope()
	case http.StatusNotFound:
		return errNotFound()
	case http.StatusBadRequest:
		return errInvalidArgument("Invalid argument.")
	case http.StatusTooManyRequests:
		return errTooManyRequests()
	}
	message, state := http.StatusText(status), "UNKNOWN"
	switch status {
	case http.StatusInternalServerError:
		message, state = "Internal error encountered.", "INTERNAL"
	case http.StatusServiceUnavailable:
		message, state = "The service is currently unavailable.", "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		message, state = "The request timed out. Please try again.", "DEADLINE_EXCEEDED"
	}
	return newAPIError(status, state, "global", "backendError", message)
}

func writeAPIError(w http.ResponseWriter, r *http.Request, e *apiError) {
	for name, values := range e.header {
		w.Header()[name] = values
	}
	writeAPIJSON(w, r, e.Code, struct {
		Error *apiError `json:"error"`
	}{e})
}

// writeAPIJSON writes a Gmail API response. Like Google it pretty-prints
// unless prettyPrint=false, and it does not escape <, > and & because Gmail
// does not (snippets are already HTML-escaped).
func writeAPIJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	header := w.Header()
	header.Set("Content-Type", "application/json; charset=UTF-8")
	header["Vary"] = []string{"Origin", "X-Origin", "Referer"}
	w.WriteHeader(status)
	encoder := json.NewEncoder(w)
	encoder.SetEscapeHTML(false)
	if r.URL.Query().Get("prettyPrint") != "false" {
		encoder.SetIndent("", "  ")
	}
	// The status is already sent; a failed write means the client went away.
	_ = encoder.Encode(v)
}

// gmailMux routes Gmail API paths. Both the Gmail endpoints and the batch
// parts go through it, so every call meets the same latency, faults and
// authentication.
func (s *Server) gmailMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/gmail/v1/users/{userId}/messages", s.gmailCall(callList, s.listMessages))
	mux.Handle("/gmail/v1/users/{userId}/messages/{id}", s.gmailCall(callGet, s.getMessage))
	mux.Handle("/gmail/v1/users/{userId}/profile", s.gmailCall(callProfile, s.getProfile))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, r, errNotFound())
	})
	return mux
}

// gmailHandler answers one authenticated Gmail call for box.
type gmailHandler func(w http.ResponseWriter, r *http.Request, box *mailbox)

// gmailCall wraps a Gmail endpoint with the latency, fault injection,
// authentication and userId checks every call goes through.
func (s *Server) gmailCall(kind string, handle gmailHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeAPIError(w, r, errMethodNotAllowed(r.Method))
			return
		}
		if err := sleepContext(r.Context(), s.currentLatency()); err != nil {
			writeAPIError(w, r, errForStatus(http.StatusServiceUnavailable, ""))
			return
		}
		s.serveWithFaults(kind, w, r, func(w http.ResponseWriter, r *http.Request) {
			box, apiErr := s.authorizeGmail(r)
			if apiErr != nil {
				writeAPIError(w, r, apiErr)
				return
			}
			handle(w, r, box)
		})
	})
}

// authorizeGmail checks the bearer token, its scope and the userId path
// segment, and returns the caller's mailbox.
func (s *Server) authorizeGmail(r *http.Request) (*mailbox, *apiError) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, errMissingCredentials()
	}
	who, live := s.tokens.lookupAccess(token, s.now())
	if !live {
		return nil, errInvalidCredentials()
	}
	if !slices.Contains(who.scopes, GmailScope) {
		return nil, errInsufficientScope()
	}
	if userID := r.PathValue("userId"); userID != "me" && !strings.EqualFold(userID, who.account) {
		return nil, errDelegationDenied(who.account)
	}
	if box, seeded := s.mailboxes[who.account]; seeded {
		return box, nil
	}
	return newMailbox(who.account, "", nil), nil
}

// bearerToken extracts an RFC 6750 bearer token from the Authorization header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// systemParams are the query parameters every Google API accepts.
var systemParams = []string{"alt", "fields", "prettyPrint", "quotaUser", "key", "$.xgafv"}

// checkParams refuses unknown query parameters the way Google APIs do, which
// catches typos such as maxresults that Gmail would also reject.
func checkParams(query url.Values, allowed ...string) *apiError {
	for name, values := range query {
		switch {
		case name == "access_token" || name == "oauth_token":
			return errInvalidArgument("The sandbox does not accept access tokens in the URL; send them in the Authorization header.")
		case name == "alt" && values[0] != "json":
			return errInvalidArgument(fmt.Sprintf("Invalid value at 'alt': %q; this method only supports alt=json.", values[0]))
		case !slices.Contains(allowed, name) && !slices.Contains(systemParams, name):
			return errInvalidArgument(fmt.Sprintf(
				"Invalid JSON payload received. Unknown name %q: Cannot bind query parameter. Field '%s' could not be found in request message.",
				name, name))
		}
	}
	return nil
}

type listResponse struct {
	Messages           []messageRef `json:"messages,omitempty"`
	NextPageToken      string       `json:"nextPageToken,omitempty"`
	ResultSizeEstimate int          `json:"resultSizeEstimate"`
}

type messageRef struct {
	ID       string `json:"id"`
	ThreadID string `json:"threadId"`
}

// listMessages is users.messages.list.
func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, box *mailbox) {
	query := r.URL.Query()
	if apiErr := checkParams(query, "q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	pageSize := defaultPageSize
	if raw := query.Get("maxResults"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageSize {
			writeAPIError(w, r, errInvalidArgument(fmt.Sprintf("Invalid maxResults %q: it must be an integer from 1 to %d.", raw, maxPageSize)))
			return
		}
		pageSize = n
	}
	filter, apiErr := parseFilter(query)
	if apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	fingerprint := strings.Join([]string{box.address, query.Get("q"), strings.Join(query["labelIds"], ","), query.Get("includeSpamTrash")}, "\x00")
	offset := 0
	if raw := query.Get("pageToken"); raw != "" {
		var ok bool
		if offset, ok = s.parsePageToken(raw, fingerprint); !ok {
			writeAPIError(w, r, errInvalidArgument("Invalid pageToken"))
			return
		}
	}
	matches := box.search(filter)
	response := listResponse{ResultSizeEstimate: len(matches)}
	end := min(offset+pageSize, len(matches))
	for _, m := range matches[min(offset, end):end] {
		response.Messages = append(response.Messages, messageRef{ID: m.id, ThreadID: m.threadID})
	}
	if end < len(matches) {
		response.NextPageToken = s.pageToken(end, fingerprint)
	}
	writeAPIJSON(w, r, http.StatusOK, response)
}

// parseFilter turns labelIds, q and includeSpamTrash into a messageFilter.
func parseFilter(query url.Values) (messageFilter, *apiError) {
	var filter messageFilter
	for _, label := range query["labelIds"] {
		if !slices.Contains(systemLabels, label) {
			return filter, errInvalidArgument("Invalid label: " + label)
		}
		filter.require = append(filter.require, label)
	}
	switch query.Get("includeSpamTrash") {
	case "", "false":
	case "true":
		filter.includeSpamTrash = true
	default:
		return filter, errInvalidArgument(fmt.Sprintf("Invalid value at 'include_spam_trash' (TYPE_BOOL), %q", query.Get("includeSpamTrash")))
	}
	filter.addSearch(query.Get("q"))
	return filter, nil
}

// pageToken encodes offset as a 20-digit number, like Gmail's tokens, with an
// HMAC over the query so that a token only works with the query it came from.
func (s *Server) pageToken(offset int, fingerprint string) string {
	return fmt.Sprintf("%05d%015d", offset, s.pageTokenMAC(offset, fingerprint))
}

func (s *Server) parsePageToken(token, fingerprint string) (int, bool) {
	if len(token) != 20 || strings.Trim(token, "0123456789") != "" {
		return 0, false
	}
	offset, err := strconv.Atoi(token[:5])
	if err != nil {
		return 0, false
	}
	return offset, hmac.Equal([]byte(token), []byte(s.pageToken(offset, fingerprint)))
}

func (s *Server) pageTokenMAC(offset int, fingerprint string) uint64 {
	mac := hmac.New(sha256.New, s.pageTokenKey)
	fmt.Fprintf(mac, "%d\x00%s", offset, fingerprint)
	return binary.BigEndian.Uint64(mac.Sum(nil)) % 1_000_000_000_000_000
}

// getMessage is users.messages.get.
func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, box *mailbox) {
	query := r.URL.Query()
	if apiErr := checkParams(query, "format", "metadataHeaders"); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	format := strings.ToLower(query.Get("format"))
	switch format {
	case "":
		format = formatFull
	case formatMinimal, formatMetadata, formatFull, formatRaw:
	default:
		writeAPIError(w, r, errInvalidArgument(fmt.Sprintf("Invalid value at 'format' (type.googleapis.com/google.apps.gmail.v1.Format), %q", query.Get("format"))))
		return
	}
	id := r.PathValue("id")
	if !validMessageID(id) {
		writeAPIError(w, r, errInvalidArgument("Invalid id value"))
		return
	}
	message, ok := box.byID[id]
	if !ok {
		writeAPIError(w, r, errNotFound())
		return
	}
	writeAPIJSON(w, r, http.StatusOK, message.resource(format, query["metadataHeaders"]))
}

// maxMessageIDDigits is the length of a Gmail message ID: a 64-bit number
// in lower-case hex.
const maxMessageIDDigits = 16

// validMessageID reports whether id can be a Gmail message ID. Gmail answers
// 400 "Invalid id value" for one that cannot (not hex, or too long to be a
// 64-bit number) and 404 for one that can but names no message.
func validMessageID(id string) bool {
	if id == "" || len(id) > maxMessageIDDigits {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// getProfile is users.getProfile.
func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, box *mailbox) {
	if apiErr := checkParams(r.URL.Query()); apiErr != nil {
		writeAPIError(w, r, apiErr)
		return
	}
	writeAPIJSON(w, r, http.StatusOK, struct {
		EmailAddress  string `json:"emailAddress"`
		MessagesTotal int    `json:"messagesTotal"`
		ThreadsTotal  int    `json:"threadsTotal"`
		HistoryID     string `json:"historyId"`
	}{box.address, len(box.messages), box.threadsTotal, strconv.FormatUint(box.historyID, 10)})
}
