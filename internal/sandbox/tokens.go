package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Prefixes make sandbox credentials look like Google's (and easy to spot in
// logs): authorization codes start "4/", access tokens "ya29." and refresh
// tokens "1//".
const (
	codePrefix         = "4/sandbox."
	accessTokenPrefix  = "ya29.sandbox."
	refreshTokenPrefix = "1//sandbox."
)

// minPruneThreshold is the number of stored entries below which expired ones
// are left alone; above it, a sweep runs whenever the store has doubled since
// the last one, which keeps memory proportional to the live entries at
// amortised constant cost.
const minPruneThreshold = 1024

// randomToken returns 256 random bits, base64url-encoded, behind prefix.
func randomToken(prefix string) string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error since Go 1.24.
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// authRequest is a validated authorization request waiting for the person's
// decision on the consent page.
type authRequest struct {
	redirectURI string
	state       string
	challenge   string
	scopes      []string
	offline     bool
	loginHint   string
}

type consent struct {
	request authRequest
	expiry  time.Time
}

type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	expiry      time.Time
	grant       grantRequest
	// issued is the grant created by the first redemption, kept so that a
	// replayed code can revoke it (RFC 6749 §4.1.2).
	issued   *grant
	redeemed bool
}

// grantRequest describes what a person (or IssueToken) authorised.
type grantRequest struct {
	account  string
	clientID string
	scopes   []string
	offline  bool
}

// grant is one authorisation: a refresh token (if offline) and the access
// tokens minted from it. Revoking any of them revokes the whole grant.
type grant struct {
	grantRequest
	refreshToken string
	accessTokens map[string]struct{}
	revoked      bool
}

type accessToken struct {
	grant  *grant
	scopes []string
	expiry time.Time
}

// tokenStore keeps every piece of OAuth state in memory.
type tokenStore struct {
	mu        sync.Mutex
	accessTTL time.Duration
	consents  map[string]*consent
	codes     map[string]*authCode
	access    map[string]*accessToken
	refresh   map[string]*grant
	pruneAt   int
}

// oauthError is an RFC 6749 §5.2 error.
type oauthError struct {
	status      int
	code        string
	description string
}

func invalidGrant(description string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", description: description}
}

func (st *tokenStore) init(accessTTL time.Duration) {
	st.accessTTL = accessTTL
	st.consents = make(map[string]*consent)
	st.codes = make(map[string]*authCode)
	st.access = make(map[string]*accessToken)
	st.refresh = make(map[string]*grant)
	st.pruneAt = minPruneThreshold
}

func (st *tokenStore) setAccessTTL(d time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.accessTTL = d
}

// maybePrune drops expired consents, codes and access tokens once the store
// has grown enough to make a sweep worth it. Callers hold st.mu.
func (st *tokenStore) maybePrune(now time.Time) {
	size := len(st.consents) + len(st.codes) + len(st.access)
	if size < st.pruneAt {
		return
	}
	for id, c := range st.consents {
		if !now.Before(c.expiry) {
			delete(st.consents, id)
		}
	}
	for id, c := range st.codes {
		if !now.Before(c.expiry) {
			delete(st.codes, id)
		}
	}
	for token, a := range st.access {
		if !now.Before(a.expiry) {
			delete(st.access, token)
			delete(a.grant.accessTokens, token)
		}
	}
	size = len(st.consents) + len(st.codes) + len(st.access)
	st.pruneAt = max(minPruneThreshold, 2*size)
}

func (st *tokenStore) storeConsent(request authRequest, expiry, now time.Time) string {
	id := randomToken("")
	st.mu.Lock()
	defer st.mu.Unlock()
	st.maybePrune(now)
	st.consents[id] = &consent{request: request, expiry: expiry}
	return id
}

// takeConsent returns the pending request and forgets it: consent IDs are
// single-use whatever the outcome.
func (st *tokenStore) takeConsent(id string, now time.Time) (authRequest, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.consents[id]
	if !ok {
		return authRequest{}, false
	}
	delete(st.consents, id)
	if !now.Before(c.expiry) {
		return authRequest{}, false
	}
	return c.request, true
}

func (st *tokenStore) storeCode(code *authCode, now time.Time) string {
	value := randomToken(codePrefix)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.maybePrune(now)
	st.codes[value] = code
	return value
}

// redeemCode exchanges an authorization code. Any redemption attempt uses the
// code up, so a stolen code cannot be retried with guessed verifiers.
func (st *tokenStore) redeemCode(value, clientID, redirectURI, verifier string, now time.Time) (issuedToken, *oauthError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	code, ok := st.codes[value]
	if !ok || code.clientID != clientID {
		return issuedToken{}, invalidGrant("Malformed auth code.")
	}
	if code.redeemed {
		if code.issued != nil {
			st.revokeGrant(code.issued)
		}
		return issuedToken{}, invalidGrant("Bad Request: the authorization code was already redeemed; the tokens issued for it are now revoked.")
	}
	code.redeemed = true
	if !now.Before(code.expiry) {
		return issuedToken{}, invalidGrant("Bad Request: the authorization code has expired.")
	}
	if redirectURI != code.redirectURI {
		return issuedToken{}, invalidGrant("Bad Request: redirect_uri does not match the authorization request.")
	}
	if verifier == "" {
		return issuedToken{}, invalidGrant("Missing code verifier.")
	}
	if !validVerifier(verifier) {
		return issuedToken{}, invalidGrant("Invalid code verifier: it must be 43-128 characters of [A-Za-z0-9-._~].")
	}
	if subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(code.challenge)) != 1 {
		return issuedToken{}, invalidGrant("Invalid code verifier.")
	}
	g, issued := st.newGrant(code.grant, now)
	code.issued = g
	return issued, nil
}

// issue creates a grant directly (IssueToken).
func (st *tokenStore) issue(request grantRequest, now time.Time) Token {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, issued := st.newGrant(request, now)
	return issued.Token
}

// issuedToken is a token response before it is written out.
type issuedToken struct {
	Token
	expiresIn time.Duration
}

// newGrant stores a grant and its first access token. Callers hold st.mu.
func (st *tokenStore) newGrant(request grantRequest, now time.Time) (*grant, issuedToken) {
	st.maybePrune(now)
	g := &grant{grantRequest: request, accessTokens: make(map[string]struct{})}
	if request.offline {
		g.refreshToken = randomToken(refreshTokenPrefix)
		st.refresh[g.refreshToken] = g
	}
	issued := st.newAccessToken(g, request.scopes, now)
	issued.RefreshToken = g.refreshToken
	return g, issued
}

// newAccessToken mints an access token for g. Callers hold st.mu.
func (st *tokenStore) newAccessToken(g *grant, scopes []string, now time.Time) issuedToken {
	value := randomToken(accessTokenPrefix)
	expiry := now.Add(st.accessTTL)
	st.access[value] = &accessToken{grant: g, scopes: scopes, expiry: expiry}
	g.accessTokens[value] = struct{}{}
	return issuedToken{
		Token:     Token{AccessToken: value, Expiry: expiry, Scope: strings.Join(scopes, " ")},
		expiresIn: st.accessTTL,
	}
}

// refreshAccess mints a new access token from a refresh token. scopes, when
// not empty, narrows the new token (RFC 6749 §6).
func (st *tokenStore) refreshAccess(refreshToken, clientID string, scopes []string, now time.Time) (issuedToken, *oauthError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	g, ok := st.refresh[refreshToken]
	if !ok || g.revoked || g.clientID != clientID {
		return issuedToken{}, invalidGrant("Token has been expired or revoked.")
	}
	if len(scopes) == 0 {
		scopes = g.scopes
	}
	for _, scope := range scopes {
		if !slices.Contains(g.scopes, scope) {
			return issuedToken{}, &oauthError{status: http.StatusBadRequest, code: "invalid_scope",
				description: "Some requested scopes were not granted: " + scope}
		}
	}
	st.maybePrune(now)
	return st.newAccessToken(g, scopes, now), nil
}

// revoke revokes the grant behind an access or refresh token. It reports
// false for unknown, expired or already revoked tokens.
func (st *tokenStore) revoke(token string, now time.Time) (account string, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if g, found := st.refresh[token]; found {
		st.revokeGrant(g)
		return g.account, true
	}
	if a, found := st.access[token]; found && now.Before(a.expiry) {
		st.revokeGrant(a.grant)
		return a.grant.account, true
	}
	return "", false
}

func (st *tokenStore) revokeAccount(account string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, g := range st.refresh {
		if g.account == account {
			st.revokeGrant(g)
		}
	}
	for _, a := range st.access {
		if a.grant.account == account {
			st.revokeGrant(a.grant)
		}
	}
}

// revokeGrant forgets every token of g. Callers hold st.mu.
func (st *tokenStore) revokeGrant(g *grant) {
	g.revoked = true
	for token := range g.accessTokens {
		delete(st.access, token)
	}
	clear(g.accessTokens)
	if g.refreshToken != "" {
		delete(st.refresh, g.refreshToken)
	}
}

// bearer is what a live access token entitles its holder to.
type bearer struct {
	account string
	scopes  []string
}

func (st *tokenStore) lookupAccess(token string, now time.Time) (bearer, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a, ok := st.access[token]
	if !ok || !now.Before(a.expiry) {
		return bearer{}, false
	}
	return bearer{account: a.grant.account, scopes: a.scopes}, true
}

// s256 is the PKCE S256 transform (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier reports whether verifier is 43–128 unreserved characters
// (RFC 7636 §4.1).
func validVerifier(verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, c := range []byte(verifier) {
		if !isUnreserved(c) {
			return false
		}
	}
	return true
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// validChallenge reports whether challenge can be the output of S256: exactly
// 32 bytes as unpadded base64url, i.e. 43 characters.
func validChallenge(challenge string) bool {
	if len(challenge) != 43 {
		return false
	}
	decoded, err := base64.RawURLEncoding.Strict().DecodeString(challenge)
	return err == nil && len(decoded) == sha256.Size
}
