package sandbox

import (
	"fmt"
	"slices"
	"strings"
)

// The scopes the sandbox grants, as Google names them.
const (
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

// gmailScopes are the Gmail scopes the sandbox serves without strict mode;
// gmail.send and gmail.compose are not among them: the sandbox sends no
// mail.
var gmailScopes = []string{GmailScope, GmailModifyScope, GmailInsertScope, GmailLabelsScope, GmailMetadataScope, MailScope}

// Which scopes let a token do what (Gmail API reference, per method).
var (
	readScopes   = []string{GmailScope, GmailModifyScope, GmailMetadataScope, MailScope}
	modifyScopes = []string{GmailModifyScope, MailScope}
	insertScopes = []string{GmailInsertScope, GmailModifyScope, MailScope}
	labelScopes  = append(slices.Clone(readScopes), GmailLabelsScope)
)

// grants reports whether a token of scopes may use a method that takes
// any of allowed.
func grants(scopes, allowed []string) bool {
	return slices.ContainsFunc(scopes, func(scope string) bool { return slices.Contains(allowed, scope) })
}

// parseScopes splits a scope parameter into known scopes, each once, in
// their full names, and describes a problem, if any, in Google's words.
func (s *Server) parseScopes(raw string) ([]string, *errorPage) {
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return nil, &errorPage{Code: "invalid_request", Message: "Missing required parameter: scope"}
	}
	known := slices.Concat(gmailScopes, appScopes)
	if s.strict {
		known = appScopes
	}
	var scopes []string
	for _, scope := range fields {
		if full, ok := scopeAliases[scope]; ok {
			scope = full
		}
		if !slices.Contains(known, scope) {
			return nil, &errorPage{Code: "invalid_scope", Message: fmt.Sprintf("Some requested scopes were invalid. {invalid=[%s]}", scope)}
		}
		if !slices.Contains(scopes, scope) {
			scopes = append(scopes, scope)
		}
	}
	return scopes, nil
}
