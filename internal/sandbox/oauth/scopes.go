package oauth

import (
	"fmt"
	"slices"
	"strings"
)

// The scopes the sandbox grants, as Google names them.
const (
	GmailScope         = "https://www.googleapis.com/auth/gmail.readonly"
	OpenIDScope        = "openid"
	EmailScope         = "https://www.googleapis.com/auth/userinfo.email"
	ProfileScope       = "https://www.googleapis.com/auth/userinfo.profile"
	GmailModifyScope   = "https://www.googleapis.com/auth/gmail.modify"
	GmailInsertScope   = "https://www.googleapis.com/auth/gmail.insert"
	GmailLabelsScope   = "https://www.googleapis.com/auth/gmail.labels"
	GmailMetadataScope = "https://www.googleapis.com/auth/gmail.metadata"
	MailScope          = "https://mail.google.com/"
)

// scopeAliases are the short names Google takes for its identity scopes;
// it answers with the full ones.
var scopeAliases = map[string]string{"email": EmailScope, "profile": ProfileScope}

// appScopes are the scopes this project's app may ask for. Strict mode
// knows no others, so an app that asks for more than it needs fails in
// tests.
var appScopes = []string{GmailScope, OpenIDScope, EmailScope, ProfileScope}

// GmailScopes are the Gmail scopes the sandbox serves without strict mode;
// gmail.send and gmail.compose are not among them: the sandbox sends no
// mail.
var GmailScopes = []string{GmailScope, GmailModifyScope, GmailInsertScope, GmailLabelsScope, GmailMetadataScope, MailScope}

// parseScopes splits a scope parameter into known scopes, each once, in
// their full names, and describes a problem, if any, in Google's words.
func (p *Provider) parseScopes(raw string) ([]string, *ErrorPage) {
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return nil, &ErrorPage{Code: "invalid_request", Message: "Missing required parameter: scope"}
	}
	known := slices.Concat(GmailScopes, appScopes)
	if p.strict {
		known = appScopes
	}
	var scopes []string
	for _, scope := range fields {
		if full, ok := scopeAliases[scope]; ok {
			scope = full
		}
		if !slices.Contains(known, scope) {
			return nil, &ErrorPage{Code: "invalid_scope", Message: fmt.Sprintf("Some requested scopes were invalid. {invalid=[%s]}", scope)}
		}
		if !slices.Contains(scopes, scope) {
			scopes = append(scopes, scope)
		}
	}
	return scopes, nil
}
