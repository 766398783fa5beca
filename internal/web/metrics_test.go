package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/sandbox"
)

// TestMetricsCountWhatHappened follows people through a sign-in, three
// views of the inbox (the last one answered 429 once by Gmail, and retried),
// a page not found and a declined sign-in, and reads what the metrics say
// of it.
func TestMetricsCountWhatHappened(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	b.Get(t, app.URL+"/no-such-page")
	declining := apptest.NewBrowser(t)
	declining.Get(t, declining.Decide(t, declining.StartSignIn(t, app), "deny").Location(t).String())
	env.Sandbox.InjectFaults(sandbox.Fault{Call: "list", Status: http.StatusTooManyRequests})
	b.Get(t, app.URL+"/home")

	exposition := scrape(t, app)
	for _, tt := range []struct {
		series string
		want   float64 // at least
		exact  bool
	}{
		{series: `gmailoauth_http_requests_total{code="200",route="GET /home"}`, want: 3, exact: true},
		{series: `gmailoauth_http_requests_total{code="404",route="/"}`, want: 1, exact: true},
		{series: `gmailoauth_http_requests_total{code="303",route="GET /callback"}`, want: 2, exact: true},
		{series: `gmailoauth_http_request_duration_seconds_count{route="GET /home"}`, want: 3, exact: true},
		{series: `gmailoauth_sign_ins_total{outcome="ok"}`, want: 1, exact: true},
		{series: `gmailoauth_sign_ins_total{outcome="declined"}`, want: 1, exact: true},
		// Each view asks for the list; the first also asks, in a batch, for
		// each message's metadata, which the others find in the cache.
		{series: `gmailoauth_gmail_calls_total{code="200",method="messages.list"}`, want: 3, exact: true},
		{series: `gmailoauth_gmail_calls_total{code="200",method="batch"}`, want: 1, exact: true},
		{series: `gmailoauth_gmail_calls_total{code="200",method="messages.get"}`, want: 50, exact: true},
		{series: `gmailoauth_gmail_calls_total{code="200",method="users.getProfile"}`, want: 1, exact: true},
		{series: `gmailoauth_gmail_calls_total{code="429",method="messages.list"}`, want: 1, exact: true},
		{series: `gmailoauth_gmail_quota_units_total{method="messages.list"}`, want: 20, exact: true},
		{series: `gmailoauth_gmail_quota_units_total{method="messages.get"}`, want: 250, exact: true},
		{series: `gmailoauth_gmail_quota_units_total{method="users.getProfile"}`, want: 1, exact: true},
		{series: `gmailoauth_gmail_call_duration_seconds_count{method="batch"}`, want: 1, exact: true},
		{series: `gmailoauth_cache_lookups_total{kind="metadata",result="miss"}`, want: 50, exact: true},
		{series: `gmailoauth_cache_lookups_total{kind="metadata",result="hit"}`, want: 100, exact: true},
		{series: `gmailoauth_cache_bytes`, want: 1},
		{series: `go_goroutines`, want: 1},
		{series: `process_resident_memory_bytes`, want: 1},
	} {
		got, ok := metricValue(exposition, tt.series)
		if !ok || got < tt.want || (tt.exact && got != tt.want) {
			t.Errorf("%s = %v (found %v); want %v%s", tt.series, got, ok, tt.want, map[bool]string{false: " or more"}[tt.exact])
		}
	}
}

// TestMetricsCountRefreshesAndRenewals reads the renewal counters after a
// refresh with a refresh token and a silent re-authorization.
func TestMetricsCountRefreshesAndRenewals(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now})
	first := apptest.NewBrowser(t)
	first.SignIn(t, app, hanako) // holds a refresh token
	second := signInElsewhere(t, app, hanako)
	clk.Advance(2 * time.Hour)
	wantStatus(t, first.Get(t, app.URL+"/home"), http.StatusOK)
	followRenewal(t, second, env, second.Get(t, app.URL+"/home"))

	exposition := scrape(t, app)
	for series, want := range map[string]float64{
		`gmailoauth_token_refreshes_total{outcome="ok"}`: 1,
		`gmailoauth_silent_renewals_total{outcome="ok"}`: 1,
	} {
		if got, ok := metricValue(exposition, series); got != want {
			t.Errorf("%s = %v (found %v); want %v", series, got, ok, want)
		}
	}
}

// scrape reads app's metrics as Prometheus would.
func scrape(t *testing.T, app *apptest.App) string {
	t.Helper()
	w := httptest.NewRecorder()
	app.Metrics.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d; want 200", w.Code)
	}
	body, _ := io.ReadAll(w.Body)
	return string(body)
}

// metricValue finds a series, written as the exposition writes it (labels
// in order), and returns its value.
func metricValue(exposition, series string) (float64, bool) {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(exposition)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}
