package gmailapi

import (
	"net/http"
	"unicode"
	"unicode/utf8"

	"gmailoauth/internal/sandbox/oauth"
)

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
			`scope="` + oauth.GmailScope + `"`}},
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

// errMethodNotAllowed answers a batch sent with another method than POST.
func errMethodNotAllowed(method string) *apiError {
	message := "Method " + method + " is not allowed on the batch endpoint; send a batch with POST."
	return &apiError{
		Code:    http.StatusMethodNotAllowed,
		Message: message,
		Errors:  []errorItem{{Message: message, Domain: "global", Reason: "methodNotAllowed"}},
		Status:  "INVALID_ARGUMENT",
		header:  http.Header{"Allow": {"POST"}},
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

// errStorageFull is Google's answer to a write into an account whose
// storage is full. Gmail's "Resolve errors" guide names no error for it;
// the storage is the account's, shared by Gmail, Drive and Photos, and
// Drive answers a full one with 403, reason storageQuotaExceeded ("The
// user's Drive storage quota has been exceeded.", as its clients report
// it), which the sandbox sends with a message about the mailbox.
func errStorageFull(message string) *apiError {
	return newAPIError(http.StatusForbidden, "PERMISSION_DENIED", "global", "storageQuotaExceeded", message)
}

// sentence words a Go error of the mail store as Google words its API
// messages, with a capital first: "Invalid RFC822 message: …".
func sentence(err error) string {
	text := err.Error()
	first, size := utf8.DecodeRuneInString(text)
	return string(unicode.ToUpper(first)) + text[size:]
}
