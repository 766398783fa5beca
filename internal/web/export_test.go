package web

import (
	"time"

	"github.com/gorilla/securecookie"
)

// SessionSecrets opens a session cookie with keys, as the app does, and
// returns the secret values it holds, so tests can check that none of them
// reaches a log line.
func SessionSecrets(name, raw string, keys [][]byte) ([]string, error) {
	store, err := newSessionStore(keys, false, time.Now)
	if err != nil {
		return nil, err
	}
	var data sessionData
	if err := securecookie.DecodeMulti(name, raw, &data, store.store.Codecs...); err != nil {
		return nil, err
	}
	var secrets []string
	for _, a := range data.Attempts {
		secrets = append(secrets, a.State, a.Verifier)
	}
	if data.Token != nil {
		secrets = append(secrets, data.Token.Access, data.Token.Refresh)
	}
	return secrets, nil
}

// Catalogue is the app's message catalogue, for tests that look for
// untranslated text.
var Catalogue = catalogue

// SessionLifetime is how long a session lasts from its sign-in.
const SessionLifetime = sessionLifetime
