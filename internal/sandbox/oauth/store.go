package oauth

import (
	"crypto/rand"
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

// minPruneThreshold is the number of stored access tokens below which
// expired ones are left alone; above it, a sweep runs whenever the map has
// doubled since the last one, which keeps memory proportional to the live
// tokens at amortised constant cost.
const minPruneThreshold = 1024

// Bounds on what strangers can make the sandbox hold. Pending consent
// pages and codes (redeemed ones are kept until they expire, to catch a
// replay) each cost at most maxAuthQueryBytes plus a few hundred bytes, so
// the two stores together stay under about 20 MiB however many requests
// arrive; the oldest entry makes room for a new one.
const (
	maxPendingConsents = 1000
	maxPendingCodes    = 1000
)

// RandomToken returns 256 random bits, base64url-encoded, behind prefix.
func RandomToken(prefix string) string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error since Go 1.24.
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// authRequest is a validated authorization request waiting for the person's
// decision on the consent page.
type authRequest struct {
	redirectURI     string
	responseType    responseType
	state           string
	nonce           string // OpenID Connect: echoed in the ID token
	challenge       string // PKCE, or "" without it
	challengeMethod string // "S256" or "plain"
	scopes          []string
	offline         bool
	loginHint       string
	// prompt is "none" when the request asked for no page at all.
	prompt string
	// forceConsent is prompt=consent: show the consent screen even for a
	// granted scope, and issue a new refresh token.
	forceConsent bool
	// includeGranted is include_granted_scopes=true: the code also carries
	// every scope granted to the client before.
	includeGranted bool
	// chooser is set when the page shown was the account chooser alone,
	// because the hinted account had granted every scope already.
	chooser bool
}

type authCode struct {
	clientID        string
	redirectURI     string
	challenge       string
	challengeMethod string
	nonce           string
	expiry          time.Time
	grant           grantRequest
	// forceConsent is prompt=consent, which makes Google issue a refresh
	// token even when it issued one to this client before.
	forceConsent bool
	// issued is the grant created by the first redemption, kept so that a
	// replayed code can revoke it (RFC 6749 §4.1.2).
	issued   *grant
	redeemed bool
}

// grantRequest describes what a person (or IssueToken) authorised. offline
// asks for a refresh token; whether one is issued depends on the account's
// authorization.
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

// authorization is what an account has granted a client, as Google keeps
// it between sign-ins: the scopes, and the grants that hold a refresh
// token. Google issues one only with the first offline grant (or when the
// request says prompt=consent), so a second sign-in gets an access token
// alone.
type authorization struct {
	scopes []string
	// refreshed are its grants that hold a refresh token, oldest first,
	// at most maxRefreshTokens.
	refreshed []*grant
	// accessTokens are the access tokens minted under it, oldest first, at
	// most maxAccessTokens (some may have expired and been pruned).
	accessTokens []string
}

// maxRefreshTokens is how many refresh tokens an account keeps for one
// client: Google documents a limit of 100, past which each new one
// invalidates the oldest without warning.
const maxRefreshTokens = 100

// maxAccessTokens is how many access tokens an account keeps for one
// client; a new one past it ends the oldest. Google documents no such
// limit, but without one anyone who can reach the sandbox could fill its
// memory with implicit-flow or refreshed tokens within their hour.
const maxAccessTokens = 1000

// tokenStore keeps every piece of OAuth state in memory.
type tokenStore struct {
	mu        sync.Mutex
	accessTTL time.Duration
	consents  expiring[authRequest]
	codes     expiring[*authCode]
	access    map[string]*accessToken
	refresh   map[string]*grant
	// authorizations is keyed by authorizationKey(account, client).
	authorizations map[string]*authorization
	pruneAt        int
}

func authorizationKey(account, clientID string) string {
	return strings.ToLower(account) + "\x00" + clientID
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
	st.consents.init(maxPendingConsents)
	st.codes.init(maxPendingCodes)
	st.access = make(map[string]*accessToken)
	st.refresh = make(map[string]*grant)
	st.authorizations = make(map[string]*authorization)
	st.pruneAt = minPruneThreshold
}

func (st *tokenStore) setAccessTTL(d time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.accessTTL = d
}

// maybePrune drops expired access tokens once there are enough of them to
// make a sweep worth it. (Their lifetimes vary with SetAccessTokenTTL, so
// they cannot expire in order as consents and codes do.) Callers hold st.mu.
func (st *tokenStore) maybePrune(now time.Time) {
	if len(st.access) < st.pruneAt {
		return
	}
	for token, a := range st.access {
		if !now.Before(a.expiry) {
			st.dropAccess(token)
		}
	}
	st.pruneAt = max(minPruneThreshold, 2*len(st.access))
}

func (st *tokenStore) storeConsent(request authRequest, expiry, now time.Time) string {
	id := RandomToken("")
	st.mu.Lock()
	defer st.mu.Unlock()
	st.consents.put(id, request, expiry, now)
	return id
}

// takeConsent returns the pending request and forgets it: consent IDs are
// single-use whatever the outcome.
func (st *tokenStore) takeConsent(id string, now time.Time) (authRequest, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.consents.take(id, now)
}

func (st *tokenStore) storeCode(code *authCode, now time.Time) string {
	value := RandomToken(codePrefix)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.codes.put(value, code, code.expiry, now)
	return value
}

// redeemCode exchanges an authorization code. Any redemption attempt uses the
// code up, so a stolen code cannot be retried with guessed verifiers. The
// error descriptions are Google's.
func (st *tokenStore) redeemCode(value, clientID, redirectURI, verifier string, now time.Time) (issuedToken, *oauthError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	code, ok := st.codes.get(value, now)
	if !ok || code.clientID != clientID {
		// Expired codes are swept, so Google's "Bad Request" for an expired
		// code becomes this one: both are invalid_grant.
		return issuedToken{}, invalidGrant("Malformed auth code.")
	}
	if code.redeemed {
		if code.issued != nil {
			st.revokeGrant(code.issued)
		}
		return issuedToken{}, invalidGrant("Bad Request")
	}
	code.redeemed = true
	if redirectURI != code.redirectURI {
		return issuedToken{}, &oauthError{status: http.StatusBadRequest, code: "redirect_uri_mismatch", description: "Bad Request"}
	}
	if code.challenge == "" && verifier != "" {
		// A verifier for a code issued without a challenge is how a PKCE
		// downgrade shows itself (RFC 9700 §2.1.1); Google refuses it too.
		return issuedToken{}, invalidGrant("code_verifier or verifier is not needed.")
	}
	if code.challenge != "" {
		if verifier == "" {
			return issuedToken{}, invalidGrant("Missing code verifier.")
		}
		transformed := verifier
		if code.challengeMethod == "S256" {
			transformed = s256(verifier)
		}
		if !validVerifier(verifier) || subtle.ConstantTimeCompare([]byte(transformed), []byte(code.challenge)) != 1 {
			return issuedToken{}, invalidGrant("Invalid code verifier.")
		}
	}
	request := code.grant
	if auth := st.authorizations[authorizationKey(request.account, request.clientID)]; auth != nil && len(auth.refreshed) > 0 && !code.forceConsent {
		request.offline = false
	}
	g, issued := st.newGrant(request, now)
	code.issued = g
	issued.nonce = code.nonce
	return issued, nil
}

// authorize records that account granted scopes to clientID and returns
// every scope granted so far. Callers hold st.mu.
func (st *tokenStore) authorize(account, clientID string, scopes []string) []string {
	key := authorizationKey(account, clientID)
	auth := st.authorizations[key]
	if auth == nil {
		auth = &authorization{}
		st.authorizations[key] = auth
	}
	for _, scope := range scopes {
		if !slices.Contains(auth.scopes, scope) {
			auth.scopes = append(auth.scopes, scope)
		}
	}
	return slices.Clone(auth.scopes)
}

// grantScopes records a consent and returns what the code carries: scopes,
// joined with every scope granted before when includeGranted is set.
func (st *tokenStore) grantScopes(account, clientID string, scopes []string, includeGranted bool) []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	all := st.authorize(account, clientID, scopes)
	if includeGranted {
		return all
	}
	return scopes
}

// granted reports the scopes account has granted clientID, and whether it
// ever did.
func (st *tokenStore) granted(account, clientID string) ([]string, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	auth, ok := st.authorizations[authorizationKey(account, clientID)]
	if !ok {
		return nil, false
	}
	return slices.Clone(auth.scopes), true
}

// issue creates a grant directly (IssueToken), recording the authorization
// as a consent would.
func (st *tokenStore) issue(request grantRequest, now time.Time) Token {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.authorize(request.account, request.clientID, request.scopes)
	_, issued := st.newGrant(request, now)
	return issued.Token
}

// issueNow creates a grant whose authorization was just recorded, as the
// implicit flow does at the authorization endpoint.
func (st *tokenStore) issueNow(request grantRequest, now time.Time) issuedToken {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, issued := st.newGrant(request, now)
	return issued
}
