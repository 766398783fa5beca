package sandbox

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
	id := randomToken("")
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
	value := randomToken(codePrefix)
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

// issuedToken is a token response before it is written out.
type issuedToken struct {
	Token
	expiresIn time.Duration
	account   string // whose it is, for the ID token
	nonce     string // of the authorization request, for the ID token
}

// newGrant stores a grant and its first access token. Callers hold st.mu.
func (st *tokenStore) newGrant(request grantRequest, now time.Time) (*grant, issuedToken) {
	st.maybePrune(now)
	g := &grant{grantRequest: request, accessTokens: make(map[string]struct{})}
	if request.offline {
		g.refreshToken = randomToken(refreshTokenPrefix)
		st.refresh[g.refreshToken] = g
		if auth := st.authorizations[authorizationKey(request.account, request.clientID)]; auth != nil {
			auth.refreshed = append(auth.refreshed, g)
			if len(auth.refreshed) > maxRefreshTokens {
				st.revokeGrant(auth.refreshed[0])
				auth.refreshed = auth.refreshed[1:]
			}
		}
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
	if auth := st.authorizations[authorizationKey(g.account, g.clientID)]; auth != nil {
		auth.accessTokens = append(auth.accessTokens, value)
		if len(auth.accessTokens) > maxAccessTokens {
			st.dropAccess(auth.accessTokens[0])
			auth.accessTokens = auth.accessTokens[1:]
		}
	}
	return issuedToken{
		account: g.account,
		Token:   Token{AccessToken: value, Expiry: expiry, Scope: strings.Join(scopes, " ")},
		// Google says 3599 for its one-hour tokens: a second less than
		// they live, so a client never counts on the last moment.
		expiresIn: max(st.accessTTL-time.Second, 0),
	}
}

// dropAccess forgets one access token, if it is still held. Callers hold
// st.mu.
func (st *tokenStore) dropAccess(token string) {
	if a, ok := st.access[token]; ok {
		delete(st.access, token)
		delete(a.grant.accessTokens, token)
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

// revoke removes the authorization behind an access or refresh token: the
// app loses access to the account as when the person removes it in their
// Google Account, so every token of that account and client stops working
// and the next sign-in asks for consent again (and gets a refresh token).
// It reports false for unknown, expired or already revoked tokens.
func (st *tokenStore) revoke(token string, now time.Time) (account string, ok bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var g *grant
	if found, isRefresh := st.refresh[token]; isRefresh {
		g = found
	} else if a, isAccess := st.access[token]; isAccess && now.Before(a.expiry) {
		g = a.grant
	} else {
		return "", false
	}
	st.revokeAuthorization(func(other *grant) bool {
		return strings.EqualFold(other.account, g.account) && other.clientID == g.clientID
	})
	return g.account, true
}

func (st *tokenStore) revokeAccount(account string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.revokeAuthorization(func(g *grant) bool { return strings.EqualFold(g.account, account) })
	// Authorizations whose tokens have all expired have no grant to match.
	for key := range st.authorizations {
		if strings.HasPrefix(key, authorizationKey(account, "")) {
			delete(st.authorizations, key)
		}
	}
}

// revokeAuthorization revokes every grant that match selects and forgets
// the authorizations behind them. Callers hold st.mu.
func (st *tokenStore) revokeAuthorization(match func(*grant) bool) {
	var grants []*grant
	for _, g := range st.refresh {
		if match(g) {
			grants = append(grants, g)
		}
	}
	for _, a := range st.access {
		if match(a.grant) {
			grants = append(grants, a.grant)
		}
	}
	for _, g := range grants {
		st.revokeGrant(g)
		delete(st.authorizations, authorizationKey(g.account, g.clientID))
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
	expiry  time.Time
	offline bool // its grant has a refresh token
}

func (st *tokenStore) lookupAccess(token string, now time.Time) (bearer, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a, ok := st.access[token]
	if !ok || !now.Before(a.expiry) {
		return bearer{}, false
	}
	return bearer{account: a.grant.account, scopes: a.scopes, expiry: a.expiry, offline: a.grant.refreshToken != ""}, true
}
