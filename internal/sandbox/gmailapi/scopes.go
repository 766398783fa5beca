package gmailapi

import (
	"gmailoauth/internal/sandbox/oauth"
	"slices"
)

// Which scopes let a token do what (Gmail API reference, per method).
var (
	readScopes   = []string{oauth.GmailScope, oauth.GmailModifyScope, oauth.GmailMetadataScope, oauth.MailScope}
	modifyScopes = []string{oauth.GmailModifyScope, oauth.MailScope}
	insertScopes = []string{oauth.GmailInsertScope, oauth.GmailModifyScope, oauth.MailScope}
	labelScopes  = append(slices.Clone(readScopes), oauth.GmailLabelsScope)
)

// grants reports whether a token of scopes may use a method that takes
// any of allowed.
func grants(scopes, allowed []string) bool {
	return slices.ContainsFunc(scopes, func(scope string) bool { return slices.Contains(allowed, scope) })
}
