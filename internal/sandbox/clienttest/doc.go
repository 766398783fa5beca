// Package clienttest drives the standalone sandbox Google (`gmailoauth
// sandbox`) with clients this project does not write: Google's own Go
// client for Gmail (google.golang.org/api/gmail/v1) over golang.org/x/oauth2,
// and github.com/coreos/go-oidc for Sign in with Google; and Google's Python
// client (python/check.py, run when python3 has Debian's python3-googleapi
// and python3-google-auth-oauthlib). It is a module of its own, so that
// those clients stay out of the app's module graph; `make test` runs it. It
// has tests only.
package clienttest
