package gmailapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gmailoauth/internal/sandbox/oauth"

	"gmailoauth/internal/sandbox/mailstore"
)

const (
	defaultPageSize = 100
	maxPageSize     = 500
)

// HTTPMethods are the methods a browser may use on the Gmail API.
const HTTPMethods = "DELETE, GET, HEAD, PATCH, POST, PUT"

// gmailMethod is one method of the Gmail API the sandbox serves.
type gmailMethod struct {
	// pattern is its route, method and path below the Gmail API's root.
	pattern string
	// id is its name in Google's discovery document, and in the log.
	id string
	// kind names it in Fault.Call.
	kind string
	// units are the quota units it costs (Gmail's "Usage limits").
	units int
	// scopes are those of which a token needs one.
	scopes []string
	// write marks a method that changes the mailbox.
	write bool
	// response is the type of its answer, which a fields parameter must fit.
	response reflect.Type
	handle   gmailHandler
}

// gmailHandler answers one authenticated Gmail call for box: the resource
// to send, or the error. It checks every parameter before it takes box.Mu,
// so that a refused call changes nothing and waits for no one, and what it
// returns shares nothing that changes under box.Mu: it is encoded after the
// lock is released.
type gmailHandler func(r *http.Request, box *mailstore.Mailbox) (any, *apiError)

// Fault kinds of Gmail calls, as named in Fault.Call.
const (
	callList    = "list"
	callGet     = "get"
	callProfile = "profile"
	callBatch   = "batch"
	callLabels  = "labels"
	callThreads = "threads"
	callHistory = "history"
	callModify  = "modify"
	callInsert  = "insert"
)

// gmailMethods lists every Gmail method the sandbox serves: its routes,
// and the methods of its discovery document.
func (s *API) gmailMethods() []gmailMethod {
	const users = "/gmail/v1/users/{userId}"
	message := reflect.TypeFor[messageResource]()
	return []gmailMethod{
		{"GET " + users + "/profile", "gmail.users.getProfile", callProfile, 1, readScopes, false, reflect.TypeFor[profileResponse](), s.getProfile},
		{"GET " + users + "/messages", "gmail.users.messages.list", callList, 5, readScopes, false, reflect.TypeFor[listResponse](), s.listMessages},
		{"POST " + users + "/messages", "gmail.users.messages.insert", callInsert, 25, insertScopes, true, message, s.insertMessage},
		{"GET " + users + "/messages/{id}", "gmail.users.messages.get", callGet, 5, readScopes, false, message, s.getMessage},
		{"POST " + users + "/messages/{id}/modify", "gmail.users.messages.modify", callModify, 5, modifyScopes, true, message, s.modifyMessage},
		{"GET " + users + "/labels", "gmail.users.labels.list", callLabels, 1, labelScopes, false, reflect.TypeFor[labelListResponse](), s.listLabels},
		{"GET " + users + "/labels/{id}", "gmail.users.labels.get", callLabels, 1, labelScopes, false, reflect.TypeFor[labelResource](), s.getLabel},
		{"GET " + users + "/threads", "gmail.users.threads.list", callThreads, 10, readScopes, false, reflect.TypeFor[threadListResponse](), s.listThreads},
		{"GET " + users + "/threads/{id}", "gmail.users.threads.get", callThreads, 10, readScopes, false, reflect.TypeFor[threadResource](), s.getThread},
		{"GET " + users + "/history", "gmail.users.history.list", callHistory, 2, readScopes, false, reflect.TypeFor[historyListResponse](), s.listHistory},
	}
}

// gmailMux routes Gmail API paths. Both the Gmail endpoints and the batch
// parts go through it, so every call meets the same faults,
// authentication and log line.
func (s *API) gmailMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, method := range s.gmailMethods() {
		mux.Handle(method.pattern, s.gmailCall(method))
	}
	// Gmail has more methods than the sandbox serves. A token that may not
	// call them gets Gmail's 403, as a read-only token calling a write
	// method does; any other, 501.
	unserved := func(r *http.Request, _ *mailstore.Mailbox) (any, *apiError) {
		return nil, newAPIError(http.StatusNotImplemented, "UNIMPLEMENTED", "global", "notImplemented",
			"The sandbox does not serve "+r.Method+" "+r.URL.Path+"; its Gmail methods are in its discovery document.")
	}
	mux.Handle("GET /gmail/v1/users/{userId}/", s.gmailCall(gmailMethod{id: "gmail.users.unserved", scopes: readScopes, handle: unserved}))
	mux.Handle("/gmail/v1/users/{userId}/", s.gmailCall(gmailMethod{id: "gmail.users.unserved", scopes: modifyScopes, write: true, handle: unserved}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, r, errNotFound())
	})
	return mux
}

// gmailCall wraps a Gmail method with the fault injection,
// authentication, scope and userId checks every call goes through, and
// logs a line per call.
func (s *API) gmailCall(method gmailMethod) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.log.Info("sandbox: gmail", "method", method.id, "http", r.Method, "path", r.URL.Path, "status", rec.status, "quota_units", method.units)
		}()
		s.serveWithFaults(method.kind, rec, r, func(w http.ResponseWriter, r *http.Request) {
			answer, apiErr := s.callGmail(r, method)
			if apiErr != nil {
				writeAPIError(w, r, apiErr)
				return
			}
			writeAPIJSON(w, r, http.StatusOK, answer)
		})
	})
}

// callGmail checks a call's token and its fields parameter, then lets the
// method answer, and keeps of the answer what fields selects.
func (s *API) callGmail(r *http.Request, method gmailMethod) (any, *apiError) {
	who, apiErr := s.authenticateGmail(r)
	if apiErr == nil {
		apiErr = s.authorizeMethod(r, who, method)
	}
	if apiErr != nil {
		return nil, apiErr
	}
	var mask fieldMask
	if fields := r.URL.Query().Get("fields"); fields != "" && method.response != nil {
		if mask, apiErr = parseFields(fields, method.response); apiErr != nil {
			return nil, apiErr
		}
	}
	answer, apiErr := method.handle(r, s.store.Mailbox(who.Account))
	if apiErr != nil {
		return nil, apiErr
	}
	return mask.keep(answer), nil
}

// authenticateGmail checks the bearer token: in the Authorization header,
// or, as Google also takes it, in access_token (strict mode refuses a
// token in the URL, where it ends up in logs).
func (s *API) authenticateGmail(r *http.Request) (oauth.Bearer, *apiError) {
	token, ok := oauth.BearerToken(r)
	if !ok && !s.strict {
		token = r.URL.Query().Get("access_token")
		ok = token != ""
	}
	if !ok {
		return oauth.Bearer{}, errMissingCredentials()
	}
	who, live := s.tokens.LookupAccess(token)
	if !live {
		return oauth.Bearer{}, errInvalidCredentials()
	}
	return who, nil
}

// authorizeMethod checks that the token may call method on the mailbox
// the path names.
func (s *API) authorizeMethod(r *http.Request, who oauth.Bearer, method gmailMethod) *apiError {
	if !grants(who.Scopes, method.scopes) {
		return errInsufficientScope()
	}
	if userID := r.PathValue("userId"); userID != "me" && !strings.EqualFold(userID, who.Account) {
		return errDelegationDenied(who.Account)
	}
	return nil
}

// statusRecorder remembers the status of a response, for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// systemParams are the query parameters every Google API accepts.
var systemParams = []string{"alt", "fields", "prettyPrint", "quotaUser", "key", "$.xgafv", "access_token", "oauth_token", "uploadType", "upload_protocol"}

// checkParams refuses unknown query parameters the way Google APIs do, which
// catches typos such as maxresults that Gmail would also reject.
func (s *API) checkParams(query url.Values, allowed ...string) *apiError {
	for name, values := range query {
		switch {
		case s.strict && (name == "access_token" || name == "oauth_token"):
			return errInvalidArgument("The sandbox does not accept access tokens in the URL in strict mode; send them in the Authorization header.")
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

// pageSizeParam reads maxResults, from 1 to maxPageSize.
func pageSizeParam(query url.Values, fallback int) (int, *apiError) {
	raw := query.Get("maxResults")
	if raw == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxPageSize {
		return 0, errInvalidArgument(fmt.Sprintf("Invalid maxResults %q: it must be an integer from 1 to %d.", raw, maxPageSize))
	}
	return n, nil
}

// pageStart reads pageToken: where the page starts, 0 without one. A
// token works only with the query it came from (fingerprint: what the
// results depend on, never pageToken itself, which changes from page to
// page); another is 400, as at Gmail.
func (s *API) pageStart(query url.Values, fingerprint []string) (int, *apiError) {
	raw := query.Get("pageToken")
	if raw == "" {
		return 0, nil
	}
	start, ok := s.parsePageToken(raw, fingerprint)
	if !ok {
		return 0, errInvalidArgument("Invalid pageToken")
	}
	return start, nil
}

// pageEnd cuts the page that starts at start, of pageSize items out of
// total, and makes the token of the next page.
func (s *API) pageEnd(start, pageSize, total int, fingerprint []string) (from, to int, next string) {
	to = min(start+pageSize, total)
	from = min(start, to)
	if to < total {
		next = s.pageToken(to, fingerprint)
	}
	return from, to, next
}

// pageTokenMACDigits is how many decimal digits of an HMAC end a page
// token.
const pageTokenMACDigits = 15

// pageToken encodes offset as a number of at least 5 digits followed by
// 15 of an HMAC over the query, 20 digits like Gmail's tokens, so that a
// token only works with the query it came from.
func (s *API) pageToken(offset int, fingerprint []string) string {
	return fmt.Sprintf("%05d%0*d", offset, pageTokenMACDigits, s.pageTokenMAC(offset, fingerprint))
}

func (s *API) parsePageToken(token string, fingerprint []string) (int, bool) {
	if len(token) < 5+pageTokenMACDigits || len(token) > 19+pageTokenMACDigits || strings.Trim(token, "0123456789") != "" {
		return 0, false
	}
	offset, err := strconv.Atoi(token[:len(token)-pageTokenMACDigits])
	if err != nil {
		return 0, false
	}
	return offset, hmac.Equal([]byte(token), []byte(s.pageToken(offset, fingerprint)))
}

// pageTokenMAC is an HMAC over offset and fingerprint, each part with its
// length, so that no two fingerprints run together alike.
func (s *API) pageTokenMAC(offset int, fingerprint []string) uint64 {
	mac := hmac.New(sha256.New, s.pageTokenKey)
	fmt.Fprintf(mac, "%d", offset)
	for _, part := range fingerprint {
		fmt.Fprintf(mac, "\x00%d:%s", len(part), part)
	}
	return binary.BigEndian.Uint64(mac.Sum(nil)) % 1_000_000_000_000_000
}

// pathID reads the Gmail message or thread ID in the path: a number, in
// hex, that fits a signed 64-bit integer. Gmail answers 400 "Invalid id
// value" for one that cannot be an ID (not hex, too long, or out of range)
// and 404 for one that can but names nothing. Upper-case hex digits name the same number, so
// the ID is returned in lower case, as Gmail writes it; strict mode
// refuses upper case instead, so that an ID mangled on its way through a
// client fails loudly.
func (s *API) pathID(r *http.Request) (string, *apiError) {
	id := r.PathValue("id")
	_, err := strconv.ParseInt(id, 16, 64)
	lower := strings.ToLower(id)
	if err != nil || strings.HasPrefix(id, "-") || strings.HasPrefix(id, "+") || s.strict && lower != id {
		return "", errInvalidArgument("Invalid id value")
	}
	return lower, nil
}

func writeAPIError(w http.ResponseWriter, r *http.Request, e *apiError) {
	for name, values := range e.header {
		w.Header()[name] = values
	}
	writeAPIJSON(w, r, e.Code, struct {
		Error *apiError `json:"error"`
	}{e})
}

// writeAPIJSON writes a Google API response. Like Google it pretty-prints
// unless prettyPrint=false, and does not escape <, > and & because Gmail
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
