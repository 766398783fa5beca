// Package sandbox is an offline, in-memory stand-in for the parts of Google
// that the app talks to: the OAuth 2.0 authorization endpoint (with a consent
// page), the token and revocation endpoints, a small userinfo endpoint, and the
// read-only Gmail API (messages.list, messages.get, users.getProfile and the
// Gmail batch endpoint).
//
// It is the app's default when no Google client is configured and the fixture
// for every other test, so it is deliberately strict: requests that Google
// would refuse are refused here too, with Google's status codes and error
// bodies, so that bugs surface offline rather than in production.
//
// A Server is an http.Handler; mount it on its own listener (its paths mirror
// Google's, relative to the server's base URL):
//
//	auth:     base + AuthPath          (GET shows consent, POST is the decision)
//	token:    base + TokenPath
//	revoke:   base + RevokePath
//	userinfo: base + UserinfoPath
//	Gmail:    base + "/gmail/v1/users/{userId}/..."
//	batch:    base + GmailBatchPath
//
// Tests and load generators steer it with SetLatency, InjectFaults,
// SetFaultRates, ShuffleBatchResponses, SetAccessTokenTTL, RevokeAccount and
// IssueToken, and observe it with Stats. Main serves it on its own, for
// other clients: `gmailoauth sandbox -h`.
//
// # OAuth: as Google behaves
//
// The authorization endpoint shows Google's own error page (400, or 401
// invalid_client for an unknown client) for a malformed request, an unknown
// client or an unregistered redirect URI, and redirects back to the app
// only with what the person decides (access_denied) or the flow produces
// (prompt=none's login_required, interaction_required, consent_required).
// A successful callback carries code, state, scope, authuser, prompt and,
// for the Workspace account alex@example.com, hd.
//
// Grants persist per account and client as at Google: a refresh token comes
// only with the first offline grant, or with prompt=consent; a later
// sign-in skips the scope consent screen (the account chooser stays) and
// gets an access token alone; include_granted_scopes=true returns every
// scope granted before. Choosing an account signs the browser in to the
// sandbox's Google session (a cookie), which is what lets prompt=none answer
// with a code and no page; login_hint picks the account. Revoking any token
// removes the whole authorization, so the next sign-in asks for consent and
// gets a refresh token again. The token endpoint answers wrong client
// credentials with 401 invalid_client however they are sent, a code
// redeemed with another redirect URI with redirect_uri_mismatch, a missing
// or unknown grant_type with unsupported_grant_type, gives expires_in 3599
// for an hour, and uses Google's error_description texts.
//
// Where the sandbox is stricter than Google, on purpose:
//   - PKCE with S256 is required (Google accepts no PKCE, or plain): the app
//     must never send a code exchange that a stolen code could complete.
//   - Only the scopes the app may ask for are known (gmail.readonly, openid,
//     email, profile); any other is invalid_scope, so asking for more than
//     the app needs fails in tests.
//   - Repeated parameters are refused (RFC 6749 §3.1), at both endpoints.
//   - The token endpoint takes parameters only in the body, and refuses a
//     client that authenticates twice (Basic and a secret in the body).
//   - An authorization request's query is limited to 8 KiB (414 beyond),
//     and at most 1,000 consent pages and 1,000 unredeemed codes are held,
//     the oldest dropped first; expired ones are swept at the next store
//     or lookup. The sandbox shares the app's process, so a flood of
//     requests must not grow it.
//   - The consent screen and the account chooser are one page when the
//     browser has no sandbox Google session and no login_hint, since the
//     person has not said who they are yet.
//
// # Gmail API: as Google behaves
//
// Errors carry Google's JSON body, status and reason: 401 authError, 403
// insufficientPermissions for a token without the Gmail scope, 404 "Requested
// entity was not found." for a message ID that names no message, 400
// "Invalid id value" for one that cannot be an ID. Fault injection adds what
// only load produces: 403 rateLimitExceeded and userRateLimitExceeded in
// domain usageLimits, as Gmail's "Resolve errors" guide shows them (Fault
// with Reason, FaultRates.P403), and 429 RESOURCE_EXHAUSTED, "Too many
// concurrent requests for user." The batch endpoint takes the layout of
// Google's batch guide byte for byte (LF or CRLF line ends, no HTTP version
// on the request line, no blank line after a body-less request), applies
// the outer request's headers and query parameters to every part that does
// not set its own, answers each part under "response-" plus its Content-ID,
// and refuses more than 100 parts. Google's guide warns that parts may be
// answered in any order; ShuffleBatchResponses makes the sandbox do so.
//
// Where the Gmail API is stricter than Google, on purpose:
//   - It is read-only: any method but GET and HEAD is 405, and in a batch
//     400, since a write from an app that only reads is a bug.
//   - Message IDs are lower-case hex of at most 16 digits (a 64-bit number,
//     as every ID Gmail hands out); anything else is 400 "Invalid id value",
//     so an ID mangled on its way through the client fails loudly.
//   - A batch part whose request line holds a full or scheme-relative URL,
//     or another protocol than HTTP/1, is refused with 400: the guide
//     forbids full URLs, and refusing them keeps a client from relying on
//     Google tolerating one.
//   - Page tokens work only with the query they came from, and edited or
//     forged ones are 400 "Invalid pageToken".
//   - An access token in the URL (access_token=) is refused: Google accepts
//     it, but a token in a URL ends up in logs.
//   - A batch body is limited to 4 MiB; 100 metadata requests need a few KiB.
//
// Where it is simpler than Google: a search (q) honours only label-like
// terms (is:, in:, label:, category:, negated with -) and ignores the rest,
// such as from: or free text; the mailboxes are fixed at New, so
// historyId never moves.
package sandbox
