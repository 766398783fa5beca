package web_test

import (
	"net/http"
	"testing"

	"gmailoauth/internal/apptest"
)

// The harness builds the app through web.New with production's
// dependencies (web.NewDeps) but for the logger, time zone and sandbox, so
// its inbox goes through the metadata cache as production's does: a repeat
// view fetches no metadata.
func TestDefaultWiringCachesMetadata(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	app := env.Apps[0]
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, "hanako.yamada@example.jp")
	for view := range 2 {
		env.Sandbox.ResetStats()
		if resp := b.Get(t, app.URL+"/home"); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /home = %d; want 200", resp.StatusCode)
		}
		parts := env.Sandbox.Stats().BatchParts
		switch {
		case view == 0 && parts == 0:
			t.Errorf("first view: %d metadata requests; want some", parts)
		case view == 1 && parts != 0:
			t.Errorf("repeat view: %d metadata requests; want 0 (served from the cache)", parts)
		}
	}
}
