package oauth

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

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
		g.refreshToken = RandomToken(refreshTokenPrefix)
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
	value := RandomToken(accessTokenPrefix)
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

// lookupAccess returns what a live access token stands for.
func (st *tokenStore) lookupAccess(token string, now time.Time) (Bearer, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	a, ok := st.access[token]
	if !ok || !now.Before(a.expiry) {
		return Bearer{}, false
	}
	return Bearer{Account: a.grant.account, Scopes: a.scopes, expiry: a.expiry, offline: a.grant.refreshToken != ""}, true
}
