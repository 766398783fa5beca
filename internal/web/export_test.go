package web

// SessionSecrets returns the secret values a decoded session cookie holds,
// so tests can check that none of them reaches a log line.
func SessionSecrets(values map[any]any) []string {
	data, _ := values[sessionValueKey].(sessionData)
	var secrets []string
	for _, a := range data.Attempts {
		secrets = append(secrets, a.State, a.Verifier)
	}
	if data.Token != nil {
		secrets = append(secrets, data.Token.Access, data.Token.Refresh)
	}
	return secrets
}

// Catalogue is the app's message catalogue, for tests that look for
// untranslated text.
var Catalogue = catalogue

// SessionLifetime is how long a session lasts from its sign-in.
const SessionLifetime = sessionLifetime
