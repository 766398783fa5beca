package web_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/gmail"
)

// TestInboxRelativeDatesAreFreshWithCachedRows checks that a row served from
// the row cache shows the relative date of this view, not of the view that
// rendered it: after the clock moves on, the cached app shows what an app
// with no cache shows.
func TestInboxRelativeDatesAreFreshWithCachedRows(t *testing.T) {
	base := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	var elapsed atomic.Int64
	now := func() time.Time { return base.Add(time.Duration(elapsed.Load())) }
	dates := func(app *apptest.App) map[string]string {
		t.Helper()
		b := apptest.NewBrowser(t)
		b.SignIn(t, app, hanako)
		resp := b.Get(t, app.URL+"/home")
		wantStatus(t, resp, http.StatusOK)
		got := map[string]string{}
		for _, li := range apptest.FindAll(apptest.Parse(t, resp.Body), "li.message") {
			if tm := apptest.Find(li, "time"); tm != nil {
				got[apptest.Text(apptest.Find(li, "code"))] = apptest.Text(tm)
			}
		}
		return got
	}
	// Both sandboxes seed the same mail, relative to the same clock.
	_, cached := start(t, apptest.Options{Cache: gmail.NewCache(8 << 20), Now: now})
	// A nil Cache would be web.NewDeps's; a cache of 0 bytes holds nothing.
	_, uncached := start(t, apptest.Options{Cache: gmail.NewCache(0), Now: now})
	before := dates(cached)
	// Less than the sandbox's hour-long access tokens: the views stay signed in.
	elapsed.Store(int64(50 * time.Minute))
	after := dates(cached)
	want := dates(uncached)

	changed := 0
	for id, when := range want {
		if after[id] != when {
			t.Errorf("message %s shows %q from the cache; want %q", id, after[id], when)
		}
		if before[id] != when {
			changed++
		}
	}
	if len(want) < 40 || changed == 0 {
		t.Errorf("%d dated messages, %d of them changed in 50 minutes; want 40 or more, some changed", len(want), changed)
	}
}

// TestRepeatViewIsOneListCall checks what a repeat view costs Gmail: the
// list call alone (5 quota units), whatever the app keeps of the page.
func TestRepeatViewIsOneListCall(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK) // fills the cache
	for view := 2; view <= 3; view++ {
		env.Sandbox.ResetStats()
		resp := b.Get(t, app.URL+"/home")
		wantStatus(t, resp, http.StatusOK)
		if n := messageCount(t, resp); n != 50 {
			t.Fatalf("view %d: %d messages; want 50", view, n)
		}
		// A batch would count once, with its parts; a list is one call alone.
		if stats := env.Sandbox.Stats(); stats.GmailCalls != 1 || stats.BatchParts != 0 {
			t.Errorf("view %d made %d Gmail calls with %d batch parts; want 1 call (the list), no batch", view, stats.GmailCalls, stats.BatchParts)
		}
	}
}
