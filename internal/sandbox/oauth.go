package sandbox

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

// maxFormBytes bounds the bodies of form posts; real ones are a few hundred bytes.
const maxFormBytes = 64 << 10

// scopeDescriptions lists the scopes the sandbox grants, worded as Google's
// consent screen words them. Google accepts many more, but the app needs none
// of them, so asking for one is a bug worth catching.
var scopeDescriptions = map[string]string{
	GmailScope: "View your email messages and settings",
	"openid":   "Associate you with your personal info on Google",
	"email":    "See your primary Google Account email address",
	"profile":  "See your personal info, including any personal info you've made publicly available",
}

// serveAuthorize validates an authorization request and shows the consent page.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	clientID, clientOK := single(query, "client_id")
	if !clientOK || clientID == "" {
		s.renderError(w, http.StatusBadRequest, errorPage{
			Code:    "invalid_request",
			Message: "Missing required parameter: client_id",
			Detail:  "Exactly one client_id parameter is required.",
		})
		return
	}
	if clientID != s.clientID {
		s.renderError(w, http.StatusBadRequest, errorPage{
			Code:    "invalid_client",
			Message: "The OAuth client was not found.",
			Detail:  fmt.Sprintf("client_id %q is not registered with this sandbox.", clientID),
		})
		return
	}
	redirectURI, redirectOK := single(query, "redirect_uri")
	if !redirectOK || redirectURI == "" {
		s.renderError(w, http.StatusBadRequest, errorPage{
			Code:    "invalid_request",
			Message: "Missing required parameter: redirect_uri",
			Detail:  "Exactly one redirect_uri parameter is required.",
		})
		return
	}
	if !slices.Contains(s.redirectURIs, redirectURI) {
		s.renderError(w, http.StatusBadRequest, errorPage{
			Code:    "redirect_uri_mismatch",
			Message: "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy.",
			Detail: fmt.Sprintf("redirect_uri %q is not one of the registered redirect URIs (%s).",
				redirectURI, strings.Join(s.redirectURIs, ", ")),
		})
		return
	}

	// From here on the redirect URI is trusted, so errors go back to the app.
	state := query.Get("state")
	fail := func(code, description string) {
		s.log.Info("sandbox: authorization request refused", "error", code, "description", description)
		http.Redirect(w, r, withParams(redirectURI, url.Values{
			"error":             {code},
			"error_description": {description},
			"state":             optional(state),
		}), http.StatusFound)
	}
	for name, values := range query {
		if len(values) > 1 {
			fail("invalid_request", "Parameter "+name+" is repeated.")
			return
		}
	}
	if responseType := query.Get("response_type"); responseType != "code" {
		fail("unsupported_response_type", fmt.Sprintf("Invalid response_type %q; this client may only use \"code\".", responseType))
		return
	}
	scopes, scopeErr := parseScopes(query.Get("scope"))
	if scopeErr != "" {
		fail("invalid_scope", scopeErr)
		return
	}
	challenge := query.Get("code_challenge")
	switch method := query.Get("code_challenge_method"); {
	case challenge == "":
		fail("invalid_request", "Missing required parameter: code_challenge")
		return
	case method != "S256":
		fail("invalid_request", fmt.Sprintf("Invalid code_challenge_method %q; only S256 is accepted.", method))
		return
	case !validChallenge(challenge):
		fail("invalid_request", "Invalid code_challenge: it must be 43 characters of base64url (the S256 of the verifier).")
		return
	}
	accessType := query.Get("access_type")
	if accessType != "" && accessType != "online" && accessType != "offline" {
		fail("invalid_request", fmt.Sprintf("Invalid access_type %q; use online or offline.", accessType))
		return
	}

	request := authRequest{
		redirectURI: redirectURI,
		state:       state,
		challenge:   challenge,
		scopes:      scopes,
		offline:     accessType == "offline",
		loginHint:   query.Get("login_hint"),
	}
	now := s.now()
	consentID := s.tokens.storeConsent(request, now.Add(s.codeTTL), now)
	s.renderConsent(w, r, consentID, request)
}

// parseScopes splits a scope parameter and reports a problem, if any, in
// Google's words.
func parseScopes(raw string) ([]string, string) {
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return nil, "Missing required parameter: scope"
	}
	var scopes []string
	for _, scope := range fields {
		if _, known := scopeDescriptions[scope]; !known {
			return nil, fmt.Sprintf("Some requested scopes were invalid. {invalid=[%s]}", scope)
		}
		if !slices.Contains(scopes, scope) {
			scopes = append(scopes, scope)
		}
	}
	return scopes, ""
}

// serveConsentDecision handles the Allow/Deny form of the consent page.
func (s *Server) serveConsentDecision(w http.ResponseWriter, r *http.Request) {
	var crossOrigin http.CrossOriginProtection
	if err := crossOrigin.Check(r); err != nil {
		s.renderError(w, http.StatusForbidden, errorPage{
			Code:    "cross_origin_request",
			Message: "The consent form was submitted from another site.",
			Detail:  err.Error(),
		})
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		s.renderError(w, http.StatusBadRequest, errorPage{Code: "invalid_request", Message: "The consent form could not be read.", Detail: err.Error()})
		return
	}
	request, ok := s.tokens.takeConsent(form.Get("consent_id"), s.now())
	if !ok {
		s.renderError(w, http.StatusBadRequest, errorPage{
			Code:    "invalid_request",
			Message: "This consent page has expired or was already used.",
			Detail:  "Start signing in again from the app.",
		})
		return
	}
	decision := form.Get("decision")
	if decision != "allow" && decision != "deny" {
		s.renderError(w, http.StatusBadRequest, errorPage{Code: "invalid_request", Message: fmt.Sprintf("Unknown decision %q.", decision)})
		return
	}
	deny := func() {
		s.log.Info("sandbox: consent denied")
		http.Redirect(w, r, withParams(request.redirectURI, url.Values{
			"error": {"access_denied"},
			"state": optional(request.state),
		}), http.StatusSeeOther)
	}
	if decision == "deny" {
		deny()
		return
	}
	account := form.Get("account")
	if _, seeded := s.mailboxes[account]; !seeded {
		s.renderError(w, http.StatusBadRequest, errorPage{Code: "invalid_request", Message: fmt.Sprintf("Unknown account %q.", account)})
		return
	}
	var granted []string
	for _, scope := range form["scope"] {
		if !slices.Contains(request.scopes, scope) {
			s.renderError(w, http.StatusBadRequest, errorPage{Code: "invalid_scope", Message: fmt.Sprintf("Scope %q was not requested.", scope)})
			return
		}
		if !slices.Contains(granted, scope) {
			granted = append(granted, scope)
		}
	}
	if len(granted) == 0 {
		// Google's consent screen cannot grant nothing; unticking every scope
		// amounts to declining.
		deny()
		return
	}
	// Keep the order of the request so the scope parameter is predictable.
	slices.SortFunc(granted, func(a, b string) int {
		return slices.Index(request.scopes, a) - slices.Index(request.scopes, b)
	})
	now := s.now()
	code := s.tokens.storeCode(&authCode{
		clientID:    s.clientID,
		redirectURI: request.redirectURI,
		challenge:   request.challenge,
		expiry:      now.Add(s.codeTTL),
		grant: grantRequest{
			account:  account,
			clientID: s.clientID,
			scopes:   granted,
			offline:  request.offline,
		},
	}, now)
	s.log.Info("sandbox: consent granted", "account", account, "scope", strings.Join(granted, " "), "offline", request.offline)
	http.Redirect(w, r, withParams(request.redirectURI, url.Values{
		"code":  {code},
		"state": optional(request.state),
		"scope": {strings.Join(granted, " ")},
	}), http.StatusSeeOther)
}

// serveToken is the RFC 6749 token endpoint.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.stats.tokenCalls.Add(1)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "The token endpoint only accepts POST."})
		return
	}
	if r.URL.RawQuery != "" {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request",
			description: "Parameters must be sent in the request body, not in the URL."})
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: err.Error()})
		return
	}
	for name, values := range form {
		if len(values) > 1 {
			writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Parameter " + name + " is repeated."})
			return
		}
	}
	if oerr := s.authenticateClient(r, form); oerr != nil {
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
		issued, oerr = s.tokens.redeemCode(form.Get("code"), s.clientID, form.Get("redirect_uri"), form.Get("code_verifier"), s.now())
	case "refresh_token":
		s.stats.refreshGrants.Add(1)
		if form.Get("refresh_token") == "" {
			oerr = &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Missing required parameter: refresh_token"}
			break
		}
		issued, oerr = s.tokens.refreshAccess(form.Get("refresh_token"), s.clientID, strings.Fields(form.Get("scope")), s.now())
	case "":
		oerr = &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "Missing required parameter: grant_type"}
	default:
		oerr = &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", description: "Invalid grant_type: " + grantType}
	}
	if oerr != nil {
		s.log.Info("sandbox: token request refused", "grant_type", form.Get("grant_type"), "error", oerr.code, "description", oerr.description)
		writeOAuthError(w, oerr)
		return
	}
	s.log.Info("sandbox: token issued", "grant_type", form.Get("grant_type"), "scope", issued.Scope)
	writeNoStoreJSON(w, http.StatusOK, tokenResponse{
		AccessToken:  issued.AccessToken,
		ExpiresIn:    int64(issued.expiresIn.Seconds()),
		RefreshToken: issued.RefreshToken,
		Scope:        issued.Scope,
		TokenType:    "Bearer",
	})
}

// tokenResponse is RFC 6749 §5.1 in the field order Google uses.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
}

// authenticateClient accepts exactly one client authentication method
// (RFC 6749 §2.3): HTTP Basic or client_id+client_secret in the body.
func (s *Server) authenticateClient(r *http.Request, form url.Values) *oauthError {
	_, hasHeader := r.Header["Authorization"]
	bodySecret, hasBodySecret := form["client_secret"]
	bodyID, hasBodyID := form["client_id"]
	if hasHeader {
		basicFailed := &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Unauthorized"}
		rawID, rawSecret, ok := r.BasicAuth()
		if !ok {
			return basicFailed
		}
		if hasBodySecret {
			return &oauthError{status: http.StatusBadRequest, code: "invalid_request",
				description: "The client authenticated with more than one method (HTTP Basic and client_secret in the body)."}
		}
		// RFC 6749 §2.3.1: both halves are form-url-encoded before Basic encoding.
		id, idErr := url.QueryUnescape(rawID)
		secret, secretErr := url.QueryUnescape(rawSecret)
		if idErr != nil || secretErr != nil {
			return basicFailed
		}
		if hasBodyID && bodyID[0] != id {
			return &oauthError{status: http.StatusBadRequest, code: "invalid_request",
				description: "client_id in the body does not match the HTTP Basic credentials."}
		}
		if !s.clientMatches(id, secret) {
			return basicFailed
		}
		return nil
	}
	if !hasBodyID || !hasBodySecret || !s.clientMatches(bodyID[0], bodySecret[0]) {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_client", description: "Unauthorized"}
	}
	return nil
}

func (s *Server) clientMatches(id, secret string) bool {
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.clientID))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.clientSecret))
	return idOK&secretOK == 1
}

// serveRevoke is Google's revocation endpoint (RFC 7009 flavoured: revoking
// any token of a grant revokes the whole grant).
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	s.stats.revokeCalls.Add(1)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "The revocation endpoint only accepts POST."})
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
	account, ok := s.tokens.revoke(token, s.now())
	if !ok {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_token", description: "Token expired or revoked"})
		return
	}
	s.log.Info("sandbox: token revoked", "account", account)
	writeNoStoreJSON(w, http.StatusOK, struct{}{})
}

// serveUserinfo is Google's OpenID Connect userinfo endpoint, answering with
// the claims the granted scopes allow.
func (s *Server) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeOAuthError(w, &oauthError{status: http.StatusMethodNotAllowed, code: "invalid_request", description: "Use GET or POST."})
		return
	}
	token, ok := bearerToken(r)
	who, live := s.tokens.lookupAccess(token, s.now())
	if !ok || !live {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeNoStoreJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "Invalid Credentials"})
		return
	}
	claims := map[string]any{"sub": subjectID(who.account)}
	if slices.Contains(who.scopes, "email") {
		claims["email"] = who.account
		claims["email_verified"] = true
	}
	if slices.Contains(who.scopes, "profile") {
		if box, seeded := s.mailboxes[who.account]; seeded {
			claims["name"] = box.name
			claims["given_name"] = box.givenName
			claims["family_name"] = box.familyName
		}
	}
	if len(claims) == 1 && !slices.Contains(who.scopes, "openid") {
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

// single returns the only value of name, reporting false when the parameter
// is missing or repeated (RFC 6749 §3.1 forbids repeats).
func single(query url.Values, name string) (string, bool) {
	values := query[name]
	if len(values) != 1 {
		return "", false
	}
	return values[0], true
}

// optional returns value as a parameter list that url.Values.Encode skips
// when value is empty.
func optional(value string) []string {
	if value == "" {
		return nil
	}
	return []string{value}
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
