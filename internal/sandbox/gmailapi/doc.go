// Package gmailapi is the sandbox's Gmail API over a mailstore.Store: the
// REST methods its discovery document lists, Google's batch endpoint,
// partial responses (fields), page tokens, Google's errors, the latency of
// the network and injected faults.
//
// It reads the token store only through oauth.Provider.LookupAccess, and
// takes a mailbox's lock only after every parameter of a call is checked.
// It imports mailstore and oauth, never package sandbox, which routes to it.
package gmailapi
