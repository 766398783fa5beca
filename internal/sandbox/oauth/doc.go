// Package oauth is the sandbox's Google sign-in: the OAuth 2.0
// authorization endpoint and its consent decision, the token, revocation,
// userinfo and tokeninfo endpoints, OpenID Connect (discovery, signing
// keys, ID tokens, avatars), PKCE, the scopes, the browser's sandbox Google
// session, and the token store behind them, under a lock of its own.
//
// It knows the seeded accounts only by their addresses and names (Config.Accounts),
// never their mail; the sandbox draws its pages (Pages). The Gmail API reads
// the token store only through LookupAccess. It imports no other package of
// the sandbox.
package oauth
