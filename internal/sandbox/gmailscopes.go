package sandbox

import "slices"

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
