package oauth

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ServeToken is the RFC 6749 token endpoint.
func (p *Provider) ServeToken(w http.ResponseWriter, r *http.Request) {
	p.tokenCalls.Add(1)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "The token endpoint only accepts POST."})
		return
	}
	if r.URL.RawQuery != "" && p.strict {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request",
			description: "Parameters must be sent in the request body, not in the URL (strict mode: they end up in logs)."})
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: err.Error()})
		return
	}
	// Google takes the parameters from the URL too; the body's win.
	for name, values := range r.URL.Query() {
		if !form.Has(name) {
			form[name] = values
		}
	}
	if p.strict {
		for name, values := range form {
			if len(values) > 1 {
				writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Parameter " + name + " is repeated (strict mode)."})
				return
			}
		}
	}
	if oerr := p.authenticateClient(r, form); oerr != nil {
		writeOAuthError(w, oerr)
		return
	}

	var issued issuedToken
	var oerr *oauthError
	switch grantType := form.Get("grant_type"); grantType {
	case "authorization_code":
		if form.Get("code") == "" {
			oerr = &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Missing required parameter: code"}
			break
		}
		issued, oerr = p.tokens.redeemCode(form.Get("code"), p.clientID, form.Get("redirect_uri"), form.Get("code_verifier"), p.now())
	case "refresh_token":
		p.refreshGrants.Add(1)
		if form.Get("refresh_token") == "" {
			oerr = &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Missing required parameter: refresh_token"}
			break
		}
		issued, oerr = p.tokens.refreshAccess(form.Get("refresh_token"), p.clientID, strings.Fields(form.Get("scope")), p.now())
	default:
		// Google answers a missing grant_type the same way: "Invalid grant_type: ".
		oerr = &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", description: "Invalid grant_type: " + grantType}
	}
	if oerr != nil {
		p.log.Info("sandbox: token request refused", "grant_type", form.Get("grant_type"), "error", oerr.code, "description", oerr.description)
		writeOAuthError(w, oerr)
		return
	}
	p.log.Info("sandbox: token issued", "grant_type", form.Get("grant_type"), "scope", issued.Scope)
	response := tokenResponse{
		AccessToken:  issued.AccessToken,
		ExpiresIn:    int64(issued.expiresIn.Seconds()),
		RefreshToken: issued.RefreshToken,
		Scope:        issued.Scope,
		TokenType:    "Bearer",
	}
	if scopes := strings.Fields(issued.Scope); slices.Contains(scopes, OpenIDScope) {
		response.IDToken = p.idToken(r, issued.account, scopes, issued.nonce, issued.AccessToken)
	}
	writeNoStoreJSON(w, http.StatusOK, response)
}

// tokenResponse is RFC 6749 §5.1 in the field order Google uses.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token,omitempty"` // with the openid scope
}

// authenticateClient accepts exactly one client authentication method
// (RFC 6749 §2.3): HTTP Basic or client_id+client_secret in the body. Wrong
// credentials are 401 invalid_client however they are sent, as at Google.
func (p *Provider) authenticateClient(r *http.Request, form url.Values) *oauthError {
	unauthorized := &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Unauthorized"}
	unknown := &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "The OAuth client was not found."}
	_, hasHeader := r.Header["Authorization"]
	bodySecret, hasBodySecret := form["client_secret"]
	bodyID, hasBodyID := form["client_id"]
	var id, secret string
	switch {
	case hasHeader:
		rawID, rawSecret, ok := r.BasicAuth()
		if !ok {
			return unauthorized
		}
		// RFC 6749 §2.3.1: both halves are form-url-encoded before Basic encoding.
		var idErr, secretErr error
		id, idErr = url.QueryUnescape(rawID)
		secret, secretErr = url.QueryUnescape(rawSecret)
		if idErr != nil || secretErr != nil {
			return unauthorized
		}
		// Google takes the secret twice if both say the same; strict
		// mode holds the client to one method.
		if hasBodySecret && (p.strict || bodySecret[0] != secret) {
			return &oauthError{status: http.StatusBadRequest, code: "invalid_request",
				description: "The client authenticated with more than one method (HTTP Basic and client_secret in the body)."}
		}
		if hasBodyID && bodyID[0] != id {
			return &oauthError{status: http.StatusBadRequest, code: "invalid_request",
				description: "client_id in the body does not match the HTTP Basic credentials."}
		}
	case !hasBodyID || bodyID[0] == "":
		return &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Could not determine client ID from request."}
	default:
		id = bodyID[0]
		if hasBodySecret {
			secret = bodySecret[0]
		}
	}
	if subtle.ConstantTimeCompare([]byte(id), []byte(p.clientID)) != 1 {
		return unknown
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) != 1 {
		return unauthorized
	}
	return nil
}

// ServeRevoke is Google's revocation endpoint (RFC 7009 flavoured: revoking
// any token of a grant revokes the whole grant). Google serves it to POST
// only: any other method finds nothing there.
func (p *Provider) ServeRevoke(w http.ResponseWriter, r *http.Request) {
	p.revokeCalls.Add(1)
	if r.Method != http.MethodPost {
		p.pages.NotFound(w, r)
		return
	}
	token := r.URL.Query().Get("token")
	if r.ContentLength != 0 {
		form, err := readForm(w, r)
		if err != nil {
			writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: err.Error()})
			return
		}
		if form.Has("token") {
			token = form.Get("token")
		}
	}
	if token == "" {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Missing required parameter: token"})
		return
	}
	account, ok := p.tokens.revoke(token, p.now())
	if !ok {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_token", description: "Token expired or revoked"})
		return
	}
	p.log.Info("sandbox: token revoked", "account", account)
	writeNoStoreJSON(w, http.StatusOK, struct{}{})
}

// ServeUserinfo is Google's OpenID Connect userinfo endpoint, answering with
// the claims the granted scopes allow.
func (p *Provider) ServeUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "Use GET or POST."})
		return
	}
	token, ok := BearerToken(r)
	who, live := p.tokens.lookupAccess(token, p.now())
	if !ok || !live {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeNoStoreJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "Invalid Credentials"})
		return
	}
	claims := map[string]any{"sub": subjectID(who.Account)}
	if slices.Contains(who.Scopes, EmailScope) {
		claims["email"] = who.Account
		claims["email_verified"] = true
	}
	if slices.Contains(who.Scopes, ProfileScope) {
		if seeded, ok := p.account(who.Account); ok {
			claims["name"] = seeded.Name
			claims["picture"] = pictureURL(r, who.Account)
			claims["given_name"] = seeded.GivenName
			claims["family_name"] = seeded.FamilyName
		}
	}
	if len(claims) == 1 && !slices.Contains(who.Scopes, OpenIDScope) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="insufficient_scope"`)
		writeNoStoreJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "Insufficient Permission"})
		return
	}
	writeNoStoreJSON(w, http.StatusOK, claims)
}

// readForm reads an application/x-www-form-urlencoded body, refusing any
// other content type.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("content type must be application/x-www-form-urlencoded, not %q", r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("parse body: %w", err)
	}
	return form, nil
}

// optional returns value as a parameter list that url.Values.Encode skips
// when value is empty.
func optional(value string) []string {
	if value == "" {
		return nil
	}
	return []string{value}
}

// withFragment adds params to base as its fragment, where the implicit
// flow puts tokens so that they never reach a server.
func withFragment(base string, params url.Values) string {
	return base + "#" + params.Encode()
}

// withParams adds params to the query of base, keeping the query base already
// has (RFC 6749 §3.1.2).
func withParams(base string, params url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		// Registered redirect URIs were parsed in New, so this cannot happen.
		panic(fmt.Sprintf("sandbox: registered redirect URI %q does not parse: %v", base, err))
	}
	query := u.Query()
	for name, values := range params {
		if len(values) > 0 {
			query[name] = values
		}
	}
	u.RawQuery = query.Encode()
	return u.String()
}

func writeOAuthError(w http.ResponseWriter, oerr *oauthError) {
	if oerr.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="https://accounts.google.com/"`)
	}
	writeNoStoreJSON(w, oerr.status, struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{oerr.code, oerr.description})
}

// writeNoStoreJSON writes a JSON response that caches must not keep, as
// RFC 6749 §5.1 requires for anything carrying tokens.
func writeNoStoreJSON(w http.ResponseWriter, status int, v any) {
	header := w.Header()
	header.Set("Content-Type", "application/json; charset=utf-8")
	header.Set("Cache-Control", "no-store")
	header.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	encoder.SetEscapeHTML(false)
	// The status is already sent; a failed write means the client went away.
	_ = encoder.Encode(v)
}

// BearerToken extracts an RFC 6750 bearer token from the Authorization header.
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
