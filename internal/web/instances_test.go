package web_test

import (
	"net/http"
	"slices"
	"testing"

	"gmailoauth/internal/apptest"
)

// The server keeps no per-person state, so instances sharing SESSION_KEYS
// behind a load balancer serve the same person interchangeably. Two
// instances on two ports of 127.0.0.1 share the browser's cookie, as two
// instances behind one host name would.
func TestInstancesShareSessions(t *testing.T) {
	oldKeys, rotated := newKeys(t), newKeys(t)
	env := apptest.Start(t, apptest.Options{Instances: 2, SessionKeys: oldKeys})
	first, second := env.Apps[0], env.Apps[1]
	b := apptest.NewBrowser(t)

	b.SignIn(t, first, hanako)
	resp := b.Get(t, second.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	if n := messageCount(t, resp); n != 50 {
		t.Fatalf("inbox through the second instance: %d messages; want 50", n)
	}

	// A sign-in started on one instance can finish on the other.
	consent := b.StartSignIn(t, second)
	back := b.Decide(t, consent, "allow").Location(t)
	wantRedirect(t, b.Get(t, back.String()), http.StatusSeeOther, "/home")
	if back.Host != second.URL[len("http://"):] {
		t.Fatalf("callback went to %s; want the second instance", back.Host)
	}

	// Rolling key rotation: the new pair first, the old one kept, on every
	// instance. The cookie sealed with the old key still opens everywhere,
	// and the first visit re-seals it with the new key.
	both := append(slices.Clone(rotated), oldKeys...)
	env.Restart(t, 0, both)
	env.Restart(t, 1, both)
	resealed := b.Get(t, first.URL+"/home")
	wantStatus(t, resealed, http.StatusOK)
	if len(resealed.Cookies()) != 1 {
		t.Errorf("first visit after rotation set %d cookies; want the cookie re-sealed with the new key", len(resealed.Cookies()))
	}
	again := b.Get(t, second.URL+"/home")
	wantStatus(t, again, http.StatusOK)
	if len(again.Cookies()) != 0 {
		t.Errorf("second visit after rotation set %d cookies; want none (already sealed with the new key)", len(again.Cookies()))
	}

	// Once every instance has dropped the old key, the re-sealed cookie
	// still works everywhere.
	env.Restart(t, 0, rotated)
	env.Restart(t, 1, rotated)
	for _, app := range env.Apps {
		wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	}
}
