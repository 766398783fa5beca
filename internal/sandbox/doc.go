// Package sandbox is an offline, in-memory stand-in for Google's sign-in
// and Gmail API: the OAuth 2.0 authorization endpoint (with its consent
// page), the token, revocation, userinfo and tokeninfo endpoints, OpenID
// Connect (discovery, signing keys, ID tokens), and the Gmail API methods
// listed in its discovery document, with Google's batch endpoint. Three
// made-up mailboxes are seeded: hanako.yamada@example.jp (130 messages, 75
// unread, Japanese and English, every awkward header the app must survive),
// alex@example.com (a Workspace account, hd=example.com) and
// empty@example.com (no unread mail).
//
// It is the app's Google in every test and in `make run`, and it serves
// alone for any other client: `gmailoauth sandbox -h`. A Server is an
// http.Handler; mount it on its own listener. Its paths are Google's,
// under the server's origin, so a client only swaps hosts:
//
//	AuthPath            GET shows the consent page, POST takes its form
//	TokenPath           code exchange and refresh
//	RevokePath          revocation (of the whole authorization, as Google)
//	UserinfoPath        OpenID userinfo
//	TokeninfoPath       what an access or ID token is (param or Bearer)
//	DiscoveryPath       OpenID Connect discovery; issuer is the origin
//	CertsPath           the ID-token key as a JWK set
//	PEMCertsPath        the same key as X.509 certificates
//	GmailDiscoveryPath  the Gmail discovery document (also at /$discovery/rest)
//	/gmail/v1/users/... the Gmail methods
//	GmailBatchPath      batches (also at /batch)
//
// Tests and load generators steer it with SetLatency, InjectFaults,
// SetFaultRates, ShuffleBatchResponses, SetAccessTokenTTL, RevokeAccount,
// IssueToken, Deliver and MarkRead, and observe it with Stats.
//
// # Packages
//
// The sandbox is split along its seams, and imports run one way, from
// this package down, never back up:
//
//	sandbox        Server, Options, New, the routes, the sandbox command, the pages
//	  gmailapi     the Gmail API: methods, batch, fields, faults, discovery
//	    mailstore  mailboxes, messages, search, history, seeded mail; no HTTP
//	    oauth      sign-in, OpenID Connect and the token store
//
// gmailapi imports mailstore and oauth; mailstore and oauth import no
// other package of the sandbox. The token store and each mailbox own their
// locks; sign-in knows the mailboxes only by the names New gives it, and
// the Gmail API reads tokens only through oauth's LookupAccess.
//
// # Two modes
//
// By default the sandbox accepts what Google accepts, so that Google's own
// client libraries (Go, Python, Node) work against it unchanged:
// authorization without PKCE or with the plain method, every Gmail scope
// it serves (readonly, modify, insert, labels, metadata, mail.google.com),
// the implicit and id_token response types, a repeated parameter, token
// parameters in the URL, a client secret sent both in Basic and the body
// when both say the same, an access token in the access_token query
// parameter, a full URL in a batch part's request line, and message IDs
// in upper case.
//
// Options.Strict (the -strict flag) refuses each of these, because this
// project's app must never send them; the app's own runs and tests turn it
// on, so that the mistake fails offline instead of being tolerated:
//   - PKCE with S256 is required: a code without it can be redeemed by
//     whoever steals it (RFC 9700 §2.1.1).
//   - response_type is code only: the implicit flow puts tokens in the
//     browser's history (RFC 9700 §2.1.2).
//   - Only the app's scopes exist (gmail.readonly, openid, email,
//     profile): asking for more than it needs fails in tests.
//   - A repeated parameter is refused at both endpoints (RFC 6749 §3.1).
//   - The token endpoint takes parameters only in the body, and a client
//     that authenticates twice is refused; Gmail takes the access token
//     only in the Authorization header. A URL ends up in logs.
//   - A batch part's request line holds only the path, as Google's batch
//     guide says.
//   - Message and thread IDs are lower-case hex, as Gmail writes them, so
//     an ID mangled on its way through the client fails loudly.
//
// # Sign-in, as Google behaves
//
// The authorization endpoint shows Google's own error page (400, or 401
// invalid_client for an unknown client) for a malformed request, an unknown
// client or an unregistered redirect URI (compared byte for byte), and
// redirects back only with what the person decides (access_denied) or the
// flow produces (prompt=none's login_required, interaction_required,
// consent_required). A callback carries code, state, scope (identity
// scopes in their full names), authuser, prompt and, for the Workspace
// account, hd. Grants persist per account and client: a refresh token comes
// only with the first offline grant or with prompt=consent (at most 100 live
// per account and client, the oldest revoked first); a later sign-in skips
// the consent screen; include_granted_scopes=true returns every scope
// granted before; revoking any token removes the whole authorization.
// Choosing an account signs the browser in to the sandbox's Google session
// (a cookie), which lets prompt=none answer without a page. With openid, the
// code exchange and each refresh return an RS256 ID token (iss, azp, aud,
// sub, hd, email, email_verified, at_hash, name, picture, iat, exp, and
// from the code exchange the request's nonce); picture is an avatar the
// sandbox draws, the initial its consent page shows.
//
// The consent page is a plain form, so a script can answer it: POST to
// AuthPath, from the same origin, with consent_id (the page's hidden
// field), account (an address), scope (repeated, a subset of those asked
// for; none means deny) and decision (allow or deny); a form that repeats
// consent_id, account or decision is refused. Options.AutoApprove
// (-auto-approve ACCOUNT) answers every request at once for one account,
// with every scope asked for and no page: a client's CI signs in without a
// browser. prompt=none keeps its meaning.
//
// The message page (MessageURL) shows mail only to a browser signed in to
// the account, as Gmail does; any other is sent to the sandbox's sign-in
// page, an account chooser, and back.
//
// # Gmail, as Google behaves
//
// Errors carry Google's JSON body, status and reason: 401 authError, 403
// insufficientPermissions (a read-only token calling a write method, or a
// method the token's scopes do not cover), 404 "Requested entity was not
// found.", 400 "Invalid id value", 400 for an unknown query parameter.
// Search (q) takes Gmail's operators (from:, to:, deliveredto:, subject:,
// label:, is:, in:, category:, has:attachment, filename:, after:, before:,
// older_than:, newer_than:, larger:, smaller:, size:, OR, braces, -,
// quotes, brackets, an operator before brackets as in subject:(a b), free
// text), with "me" for the signed-in account and headers searched as they
// read once decoded, whatever their charset. fields= trims a response as
// Google's partial responses do, and a selection that does not parse or
// names a field the response lacks is 400 "Invalid field selection".
// Every parameter is checked before a call waits for its mailbox, so a
// refused write has changed nothing. Writes (modify, insert) change the
// mailbox and its history; an inserted message is listed by its
// internalDate, its headers and text are decoded as the seeded mail's are,
// and it joins the threadId given when it replies into that thread as
// Google's threads guide requires (In-Reply-To and References set, the
// Subject the thread's). Page tokens work with the query they came from,
// sent again. The batch endpoint takes the layout of Google's
// batch guide byte for byte, applies the outer request's headers to every
// part, answers each part under "response-" plus its Content-ID, and
// refuses more than 100 parts; ShuffleBatchResponses answers out of order,
// as Google may. Fault injection adds what only load produces: 403
// rateLimitExceeded and userRateLimitExceeded, 429 "Too many concurrent
// requests for user.", 500, slow and cut-off answers. Each call logs one
// line with its method and quota units. The token, userinfo, tokeninfo,
// discovery and Gmail endpoints answer CORS preflights, for browser apps.
//
// # Bounds
//
// The sandbox shares the app's process, so no request may grow it without
// limit: an authorization query is at most 8 KiB (414 beyond); at most 1,000
// consent pages and 1,000 codes (redeemed ones stay until they expire, to
// catch a replay) are held, the oldest dropped first; an account keeps 100
// refresh tokens and 1,000 access tokens for a client, the oldest revoked;
// a form is at most 64 KiB; a search (q) 8 KiB, its brackets and
// negations 64 deep (400 beyond); a fields selection 8 KiB and 32 fields
// deep (400 beyond); a batch body and an inserted message at most 4 MiB,
// the message's parts read 16 deep; a mailbox remembers its last 1,000
// changes (an older startHistoryId is 404, as at Google when history has
// expired) and keeps at most 10,000 messages and 16 MiB (an insert beyond
// is 403 storageQuotaExceeded).
//
// # Where it differs from Google
//
// It sends no mail and serves no drafts, attachments or settings (501,
// or 403 for a token that could not call them anyway); the metadata scope
// reads what the readonly scope reads; fields= writes keys in alphabetical
// order and knows only the fields the sandbox's resources have (a thread
// has no snippet here), and discovery documents ignore it; dates in a
// search are Pacific Standard Time all year; CORS allows any origin.
package sandbox
