package web_test

import (
	"net/http"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
)

// TestInboxViewsAreLimitedPerAccount: an account's views of the inbox each
// call Gmail, so a script reloading it is answered 429, with Retry-After,
// after a burst, and Gmail is not called; the account gets a view again as
// time passes, and another account is not held back meanwhile.
func TestInboxViewsAreLimitedPerAccount(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now}) // INBOX_LIMIT's default: 60 a minute
	reloader, other := apptest.NewBrowser(t), apptest.NewBrowser(t)
	reloader.SignIn(t, app, hanako)
	other.SignIn(t, app, alex)
	useBurst(t, reloader, app)
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

// TestInboxLimitSurvivesSigningInAgain: a new sign-in of the same account,
// in the same browser or another, buys no fresh burst: the count belongs
// to the account, not to the session. The sign-in's first view, which
// learns whose account it is, is the one view it buys.
func TestInboxLimitSurvivesSigningInAgain(t *testing.T) {
	tests := []struct {
		name  string
		again func(t *testing.T, app *apptest.App, reloader *apptest.Browser) *apptest.Browser
	}{
		{name: "signed out and in again", again: func(t *testing.T, app *apptest.App, reloader *apptest.Browser) *apptest.Browser {
			wantRedirect(t, reloader.PostForm(t, app.URL+"/logout", app.URL, nil), http.StatusSeeOther, "/")
			reloader.SignIn(t, app, hanako)
			return reloader
		}},
		{name: "signed in in another browser", again: func(t *testing.T, app *apptest.App, _ *apptest.Browser) *apptest.Browser {
			fresh := apptest.NewBrowser(t)
			fresh.SignIn(t, app, hanako)
			return fresh
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, app := start(t, apptest.Options{Now: apptest.NewClock().Now})
			reloader := apptest.NewBrowser(t)
			reloader.SignIn(t, app, hanako)
			useBurst(t, reloader, app)

			again := tt.again(t, app, reloader)

			wantStatus(t, again.Get(t, app.URL+"/home"), http.StatusOK)
			wantStatus(t, again.Get(t, app.URL+"/home"), http.StatusTooManyRequests)
		})
	}
}

// useBurst views the inbox a burst's worth of times, each view let through.
func useBurst(t *testing.T, b *apptest.Browser, app *apptest.App) {
	t.Helper()
	for i := range 10 {
		if resp := b.Get(t, app.URL+"/home"); resp.StatusCode != http.StatusOK {
			t.Fatalf("view %d of a burst of 10: GET /home = %d; want 200", i+1, resp.StatusCode)
		}
	}
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
