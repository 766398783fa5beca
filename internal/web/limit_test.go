package web_test

import (
	"net/http"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
)

// TestInboxViewsAreLimitedPerSession: a session's views of the inbox each
// call Gmail, so a script reloading it is answered 429, with Retry-After,
// after a burst, and Gmail is not called; the session gets a view again
// as time passes, and another session is not held back meanwhile.
func TestInboxViewsAreLimitedPerSession(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now}) // INBOX_LIMIT's default: 60 a minute
	reloader, other := apptest.NewBrowser(t), apptest.NewBrowser(t)
	reloader.SignIn(t, app, hanako)
	other.SignIn(t, app, hanako)
	for i := range 10 {
		if resp := reloader.Get(t, app.URL+"/home"); resp.StatusCode != http.StatusOK {
			t.Fatalf("view %d of a burst of 10: GET /home = %d; want 200", i+1, resp.StatusCode)
		}
	}
	calls := env.Sandbox.Stats().GmailCalls
	refused := reloader.Get(t, app.URL+"/home")
	wantStatus(t, refused, http.StatusTooManyRequests)
	if got := refused.Header.Get("Retry-After"); got != "1" {
		t.Errorf("11th view: Retry-After = %q; want 1 (second)", got)
	}
	if got := heading(t, refused); got != "Slow down a little" {
		t.Errorf("11th view: h1 = %q; want Slow down a little", got)
	}
	if got := env.Sandbox.Stats().GmailCalls - calls; got != 0 {
		t.Errorf("the refused view made %d Gmail calls; want 0", got)
	}
	wantStatus(t, other.Get(t, app.URL+"/home"), http.StatusOK)

	clk.Advance(time.Second)
	wantStatus(t, reloader.Get(t, app.URL+"/home"), http.StatusOK)
	wantStatus(t, reloader.Get(t, app.URL+"/home"), http.StatusTooManyRequests)
}

func TestInboxLimitZeroLimitsNothing(t *testing.T) {
	_, app := start(t, apptest.Options{Now: apptest.NewClock().Now, Config: func(c *config.Config) { c.InboxLimit = 0 }})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	for i := range 30 {
		if resp := b.Get(t, app.URL+"/home"); resp.StatusCode != http.StatusOK {
			t.Fatalf("view %d with INBOX_LIMIT=0: GET /home = %d; want 200", i+1, resp.StatusCode)
		}
	}
}
