package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxFormBytes bounds the bodies of form posts; real ones are a few hundred bytes.
const maxFormBytes = 64 << 10

// maxAuthQueryBytes bounds the query of an authorization request. Browsers
// and Google's front end refuse very long URLs too; here the bound is what
// keeps a flood of pending consent pages small (see maxPendingConsents).
const maxAuthQueryBytes = 8 << 10

// workspaceDomains gives seeded accounts a Google Workspace domain, which
// Google names in the hd parameter of the callback.
var workspaceDomains = map[string]string{"alex@example.com": "example.com"}

// ServeAuthorize validates an authorization request as Google does: a
// request that is malformed or names an unknown client or redirect URI gets
// Google's error page, never a redirect. A valid one shows the consent page,
// the account chooser alone when the scopes were granted before, or, with
// prompt=none, no page at all. With AutoApprove, it is answered at once
// as if the person had chosen that account and allowed every scope.
func (p *Provider) ServeAuthorize(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.RawQuery) > maxAuthQueryBytes {
		p.pages.Error(w, http.StatusRequestURITooLong, ErrorPage{
			Code:    "invalid_request",
			Message: "The request is too large.",
			Detail:  fmt.Sprintf("The sandbox accepts authorization requests of up to %d bytes of query.", maxAuthQueryBytes),
		})
		return
	}
	request, status, page := p.parseAuthorization(r.URL.Query())
	if page != nil {
		p.pages.Error(w, status, *page)
		return
	}
	session := p.googleSession(r)
	if request.prompt == "none" {
		p.authorizeSilently(w, r, request, session)
		return
	}
	if p.autoApprove != "" {
		p.issueCode(w, r, request, p.autoApprove, request.scopes, true, http.StatusFound)
		return
	}
	hint := request.loginHint
	if hint == "" && len(session) > 0 {
		hint = session[0]
	}
	if account, seeded := p.seededAccount(hint); seeded && !request.forceConsent && p.hasGranted(account, request.scopes) {
		request.chooser = true
	}
	p.showConsent(w, r, request, hint)
}

// showConsent keeps request pending and shows its page, with the account
// selected preselected.
func (p *Provider) showConsent(w http.ResponseWriter, r *http.Request, request authRequest, selected string) {
	now := p.now()
	p.pages.Consent(w, r, Consent{
		ID:          p.tokens.storeConsent(request, now.Add(p.codeTTL), now),
		RedirectURI: request.redirectURI,
		Offline:     request.offline,
		Chooser:     request.chooser,
		Scopes:      request.scopes,
		Selected:    selected,
	})
}

// parseAuthorization checks the parameters of an authorization request,
// returning the error page Google would show for a bad one.
func (p *Provider) parseAuthorization(query url.Values) (authRequest, int, *ErrorPage) {
	invalid := func(message string) (authRequest, int, *ErrorPage) {
		return authRequest{}, http.StatusBadRequest, &ErrorPage{Code: "invalid_request", Message: message}
	}
	if p.strict {
		for name, values := range query {
			if len(values) > 1 {
				return invalid("Parameter " + name + " is repeated (strict mode: RFC 6749 §3.1).")
			}
		}
	}
	clientID := query.Get("client_id")
	if clientID == "" {
		return invalid("Missing required parameter: client_id")
	}
	if clientID != p.clientID {
		return authRequest{}, http.StatusUnauthorized, &ErrorPage{
			Code:    "invalid_client",
			Message: "The OAuth client was not found.",
			Detail:  fmt.Sprintf("client_id %q is not registered with this sandbox.", clientID),
		}
	}
	redirectURI := query.Get("redirect_uri")
	if redirectURI == "" {
		return invalid("Missing required parameter: redirect_uri")
	}
	if !slices.Contains(p.redirectURIs, redirectURI) {
		return authRequest{}, http.StatusBadRequest, &ErrorPage{
			Code:    "redirect_uri_mismatch",
			Message: "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy.",
			Detail: fmt.Sprintf("redirect_uri %q is not one of the registered redirect URIs (%s).",
				redirectURI, strings.Join(p.redirectURIs, ", ")),
		}
	}
	responseType, typeOK := parseResponseType(query.Get("response_type"))
	switch {
	case query.Get("response_type") == "":
		return invalid("Required parameter is missing: response_type")
	case !typeOK:
		return authRequest{}, http.StatusBadRequest, &ErrorPage{
			Code:    "unsupported_response_type",
			Message: fmt.Sprintf("Invalid response_type: %s", query.Get("response_type")),
		}
	case p.strict && responseType != responseCode:
		return authRequest{}, http.StatusBadRequest, &ErrorPage{
			Code:    "unsupported_response_type",
			Message: "response_type " + query.Get("response_type") + " is refused in strict mode: RFC 9700 §2.1.2 says to use the authorization code grant.",
		}
	}
	scopes, scopeErr := p.parseScopes(query.Get("scope"))
	if scopeErr != nil {
		return authRequest{}, http.StatusBadRequest, scopeErr
	}
	if responseType.has("id_token") && !slices.Contains(scopes, OpenIDScope) {
		return invalid("response_type id_token requires the openid scope.")
	}
	if responseType.has("id_token") && query.Get("nonce") == "" {
		return invalid("Missing required parameter: nonce")
	}
	challenge, method := query.Get("code_challenge"), query.Get("code_challenge_method")
	switch {
	case method != "" && method != "S256" && method != "plain":
		return invalid("Invalid code_challenge_method: " + method)
	case challenge == "" && p.strict:
		return invalid("Missing required parameter: code_challenge (strict mode requires PKCE with S256)")
	case challenge == "":
	case method != "S256" && p.strict:
		return invalid("Invalid code_challenge_method: strict mode accepts only S256.")
	case method == "S256" && !validChallenge(challenge):
		return invalid("Invalid code_challenge: it must be 43 characters of base64url (the S256 of the verifier).")
	case method != "S256" && !validVerifier(challenge):
		return invalid("Invalid code_challenge: a plain challenge is the verifier, 43 to 128 unreserved characters.")
	}
	if challenge != "" && method == "" {
		method = "plain" // RFC 7636 §4.3
	}
	accessType := query.Get("access_type")
	if accessType != "" && accessType != "online" && accessType != "offline" {
		return invalid("Invalid access_type: " + accessType)
	}
	prompt, promptOK := parsePrompt(query.Get("prompt"))
	if !promptOK {
		return invalid("Invalid prompt: " + query.Get("prompt"))
	}
	return authRequest{
		redirectURI:     redirectURI,
		responseType:    responseType,
		state:           query.Get("state"),
		nonce:           query.Get("nonce"),
		challenge:       challenge,
		challengeMethod: method,
		scopes:          scopes,
		offline:         accessType == "offline",
		loginHint:       strings.TrimSpace(query.Get("login_hint")),
		prompt:          prompt,
		forceConsent:    slices.Contains(strings.Fields(query.Get("prompt")), "consent"),
		includeGranted:  query.Get("include_granted_scopes") == "true",
	}, http.StatusOK, nil
}

// responseType is a set of response types, as OpenID Connect combines
// them: "code", "token", "id_token", or "id_token token".
type responseType string

const responseCode responseType = "code"

// parseResponseType checks a response_type parameter, which Google takes
// in any order, and returns it in one order.
func parseResponseType(raw string) (responseType, bool) {
	fields := strings.Fields(raw)
	slices.Sort(fields)
	switch joined := strings.Join(fields, " "); joined {
	case "code", "token", "id_token", "id_token token":
		return responseType(joined), true
	}
	return "", false
}

// answer is where the person goes back to the app with params: the
// redirect URI with params in its query for the code flow, in its fragment
// for the implicit flow, errors included (RFC 6749 §4.1.2 and §4.2.2), so
// that tokens never reach a server and a page script finds what it waits
// for where it looks.
func (request authRequest) answer(params url.Values) string {
	if request.responseType == responseCode {
		return withParams(request.redirectURI, params)
	}
	return withFragment(request.redirectURI, params)
}

func (t responseType) has(part string) bool {
	return slices.Contains(strings.Fields(string(t)), part)
}

// parsePrompt checks a prompt parameter: a space-separated list of consent
// and select_account, or none alone. It returns "none" for none and ""
// otherwise.
func parsePrompt(raw string) (string, bool) {
	values := strings.Fields(raw)
	for _, value := range values {
		switch value {
		case "consent", "select_account":
		case "none":
			if len(values) > 1 {
				return "", false
			}
			return "none", true
		default:
			return "", false
		}
	}
	return "", true
}

// authorizeSilently answers prompt=none: a code when the person is signed
// in to the sandbox and has granted every scope, else one of the errors
// OpenID Connect defines for it, always as a redirect and never a page.
func (p *Provider) authorizeSilently(w http.ResponseWriter, r *http.Request, request authRequest, session []string) {
	var account string
	switch {
	case request.loginHint != "":
		for _, signedIn := range session {
			if strings.EqualFold(signedIn, request.loginHint) {
				account = signedIn
			}
		}
		if account == "" {
			p.redirectError(w, r, request, "login_required")
			return
		}
	case len(session) == 0:
		p.redirectError(w, r, request, "login_required")
		return
	case len(session) > 1:
		// Google would have to ask which account.
		p.redirectError(w, r, request, "interaction_required")
		return
	default:
		account = session[0]
	}
	if !p.hasGranted(account, request.scopes) {
		p.redirectError(w, r, request, "consent_required")
		return
	}
	p.issueCode(w, r, request, account, request.scopes, false, http.StatusFound)
}

// redirectError sends the person back to the app with an error the flow
// produced (RFC 6749 §4.1.2.1).
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, request authRequest, code string) {
	p.log.Info("sandbox: authorization refused", "error", code)
	http.Redirect(w, r, request.answer(url.Values{
		"error": {code},
		"state": optional(request.state),
	}), http.StatusFound)
}

// hasGranted reports whether account has granted this client every scope.
func (p *Provider) hasGranted(account string, scopes []string) bool {
	granted, ok := p.tokens.granted(account, p.clientID)
	if !ok {
		return false
	}
	for _, scope := range scopes {
		if !slices.Contains(granted, scope) {
			return false
		}
	}
	return true
}

// ServeConsentDecision handles the form of the consent page and of the
// account chooser.
func (p *Provider) ServeConsentDecision(w http.ResponseWriter, r *http.Request) {
	var crossOrigin http.CrossOriginProtection
	if err := crossOrigin.Check(r); err != nil {
		p.pages.Error(w, http.StatusForbidden, ErrorPage{
			Code:    "cross_origin_request",
			Message: "The consent form was submitted from another site.",
			Detail:  err.Error(),
		})
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		p.pages.Error(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Message: "The consent form could not be read.", Detail: err.Error()})
		return
	}
	// The page sends each of these once; a form that repeats one is not
	// the page's, and taking the first would let an added value decide.
	for _, name := range []string{"consent_id", "account", "decision"} {
		if len(form[name]) > 1 {
			p.pages.Error(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Message: "The consent form repeats " + name + "."})
			return
		}
	}
	request, ok := p.tokens.takeConsent(form.Get("consent_id"), p.now())
	if !ok {
		p.pages.Error(w, http.StatusBadRequest, ErrorPage{
			Code:    "invalid_request",
			Message: "This consent page has expired or was already used.",
			Detail:  "Start signing in again from the app.",
		})
		return
	}
	decision := form.Get("decision")
	if decision != "allow" && decision != "deny" {
		p.pages.Error(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Message: fmt.Sprintf("Unknown decision %q.", decision)})
		return
	}
	if decision == "deny" {
		p.deny(w, r, request)
		return
	}
	account, seeded := p.seededAccount(form.Get("account"))
	if !seeded {
		p.pages.Error(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Message: fmt.Sprintf("Unknown account %q.", form.Get("account"))})
		return
	}
	if request.chooser {
		if p.hasGranted(account, request.scopes) {
			p.issueCode(w, r, request, account, request.scopes, false, http.StatusSeeOther)
			return
		}
		// The person chose an account that has not granted the scopes yet:
		// now Google asks for them.
		request.chooser = false
		p.showConsent(w, r, request, account)
		return
	}
	var granted []string
	for _, scope := range form["scope"] {
		if full, ok := scopeAliases[scope]; ok {
			scope = full
		}
		if !slices.Contains(request.scopes, scope) {
			p.pages.Error(w, http.StatusBadRequest, ErrorPage{Code: "invalid_scope", Message: fmt.Sprintf("Scope %q was not requested.", scope)})
			return
		}
		if !slices.Contains(granted, scope) {
			granted = append(granted, scope)
		}
	}
	if len(granted) == 0 {
		// Google's consent screen cannot grant nothing; unticking every scope
		// amounts to declining.
		p.deny(w, r, request)
		return
	}
	// Keep the order of the request so the scope parameter is predictable.
	slices.SortFunc(granted, func(a, b string) int {
		return slices.Index(request.scopes, a) - slices.Index(request.scopes, b)
	})
	p.issueCode(w, r, request, account, granted, true, http.StatusSeeOther)
}

func (p *Provider) deny(w http.ResponseWriter, r *http.Request, request authRequest) {
	p.log.Info("sandbox: consent denied")
	http.Redirect(w, r, request.answer(url.Values{
		"error": {"access_denied"},
		"state": optional(request.state),
	}), http.StatusSeeOther)
}

// issueCode records what account granted, signs the account in to the
// sandbox's Google session and sends the person back with what the
// response type asks for and the parameters Google adds: scope, authuser,
// prompt and, for a Workspace account, hd. A code goes in the query; a
// token or an ID token, as OAuth's implicit flow has them, in the fragment.
func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, request authRequest, account string, scopes []string, consented bool, status int) {
	now := p.now()
	returned := p.tokens.grantScopes(account, p.clientID, scopes, request.includeGranted)
	grant := grantRequest{account: account, clientID: p.clientID, scopes: returned, offline: request.offline}
	authuser := p.signInToGoogle(w, r, account)
	prompt := "none"
	if consented {
		prompt = "consent"
	}
	params := url.Values{
		"state":    optional(request.state),
		"scope":    {strings.Join(returned, " ")},
		"authuser": {strconv.Itoa(authuser)},
		"prompt":   {prompt},
		"hd":       optional(workspaceDomains[account]),
	}
	p.log.Info("sandbox: authorized", "account", account, "response_type", string(request.responseType), "scope", strings.Join(returned, " "), "offline", request.offline, "prompt", prompt)
	if request.responseType == responseCode {
		params.Set("code", p.tokens.storeCode(&authCode{
			clientID:        p.clientID,
			redirectURI:     request.redirectURI,
			challenge:       request.challenge,
			challengeMethod: request.challengeMethod,
			nonce:           request.nonce,
			expiry:          now.Add(p.codeTTL),
			grant:           grant,
			forceConsent:    request.forceConsent,
		}, now))
		http.Redirect(w, r, request.answer(params), status)
		return
	}
	var accessToken string
	if request.responseType.has("token") {
		grant.offline = false // the implicit flow never gets a refresh token
		issued := p.tokens.issueNow(grant, now)
		accessToken = issued.AccessToken
		params.Set("access_token", accessToken)
		params.Set("token_type", "Bearer")
		params.Set("expires_in", strconv.FormatInt(int64(issued.expiresIn.Seconds()), 10))
	}
	if request.responseType.has("id_token") {
		params.Set("id_token", p.idToken(r, account, returned, request.nonce, accessToken))
	}
	http.Redirect(w, r, request.answer(params), status)
}
