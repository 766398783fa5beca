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
// IssueToken, and observe it with Stats.
package sandbox
