package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/securecookie"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/config"
	"gmailoauth/internal/web"
)

// statePlaceholder in a fuzzed callback query stands for the state of the
// sign-in the session really started, so the fuzzer reaches the code
// exchange as well as every way of refusing.
const statePlaceholder = "{state}"

// serve sends req straight to the app's handler, with no network between.
func serve(app *apptest.App, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	app.Server.ServeHTTP(rec, req)
	return rec
}

// pendingSignIn starts a sign-in and returns the session cookie holding it
// and its state.
func pendingSignIn(t testing.TB, app *apptest.App) (*http.Cookie, string) {
	t.Helper()
	rec := serve(app, httptest.NewRequest(http.MethodGet, "/oauth", nil))
	resp := rec.Result()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || len(resp.Cookies()) != 1 {
		t.Fatalf("GET /oauth = %d, Location %v, %d cookies; want 302 with a session cookie", resp.StatusCode, err, len(resp.Cookies()))
	}
	return resp.Cookies()[0], loc.Query().Get("state")
}

// FuzzCallback sends any query to /callback, with a session that has one
// sign-in pending. A stranger's query (the state does not match, or is
// repeated) must get
// 400 and never reach Google's token endpoint. A matching state may reach
// it, only with a code and no error, and then gets the page for Google's
// answer. Nothing is ever a 500.
func FuzzCallback(f *testing.F) {
	var tokenCalls atomic.Int64
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"Bad Request"}`))
	}))
	f.Cleanup(token.Close)
	env := apptest.Start(f, apptest.Options{Config: func(c *config.Config) { c.TokenURL = token.URL }})
	app := env.Apps[0]
	cookie, state := pendingSignIn(f, app)

	for _, seed := range []string{
		"state={state}&code=4/0AbCdEf&scope=" + url.QueryEscape(web.GmailScope),
		"state={state}&error=access_denied",
		"state={state}&error=invalid_scope&error_description=" + strings.Repeat("x", 300),
		"state={state}",
		"state={state}&code=",
		"state={state}&code=" + strings.Repeat("c", 2049),
		"state={state}&state=other&code=x",
		"state={state}&code=x&code=y",
		"state=other&state={state}&code=x",
		"state={state};code=x",
		"state={state}&code=%zz",
		"state=forged&code=4/0AbCdEf",
		"code=4/0AbCdEf",
		"",
		"state=%zz&code=%",
		"state=" + strings.Repeat("s", 129) + "&code=x",
		"state=%00%ff%fe&code=%e2%80%ae%0d%0a",
		strings.Repeat("a=b&", 2100),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		rawQuery = strings.ReplaceAll(rawQuery, statePlaceholder, state)
		req := httptest.NewRequest(http.MethodGet, "/callback", nil)
		req.URL.RawQuery = rawQuery
		req.AddCookie(cookie)
		before := tokenCalls.Load()
		rec := serve(app, req)
		exchanges := tokenCalls.Load() - before

		query, parseErr := url.ParseQuery(rawQuery)
		// A repeated state or code is refused whatever its values.
		matched := parseErr == nil && len(query["state"]) == 1 && query.Get("state") == state
		canExchange := matched && len(query["code"]) == 1 && query.Get("code") != "" && query.Get("error") == ""
		switch {
		case rec.Code >= 500 && !matched:
			t.Fatalf("GET /callback?%.200s = %d; want no 5xx", rawQuery, rec.Code)
		case rec.Code == http.StatusInternalServerError:
			t.Fatalf("GET /callback?%.200s = 500; want no 500", rawQuery)
		case !matched && rec.Code != http.StatusBadRequest:
			t.Fatalf("GET /callback?%.200s = %d with a state the session never issued; want 400", rawQuery, rec.Code)
		case exchanges > 0 && !canExchange:
			t.Fatalf("GET /callback?%.200s called the token endpoint %d times; want none without the session's state, a code and no error", rawQuery, exchanges)
		case exchanges > 1:
			t.Fatalf("GET /callback?%.200s called the token endpoint %d times; want at most once", rawQuery, exchanges)
		// Short queries are well within every bound the handler sets, so
		// a matching state and a code must be exchanged.
		case canExchange && len(rawQuery) < 1024 && exchanges != 1:
			t.Fatalf("GET /callback?%.200s did not call the token endpoint; want the code exchanged", rawQuery)
		}
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
			t.Fatalf("GET /callback?%.200s: Content-Type %q; want an HTML page", rawQuery, got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Fatalf("GET /callback?%.200s: Cache-Control %q; want no-store", rawQuery, got)
		}
	})
}

// FuzzSessionCookie sends any value as the session cookie. Nobody can
// forge a sealed session, so whatever arrives must be treated as signed out:
// /home sends the browser to the start page, and the start page offers to
// connect. Nothing is ever a 5xx.
func FuzzSessionCookie(f *testing.F) {
	env := apptest.Start(f, apptest.Options{})
	app := env.Apps[0]
	pending, _ := pendingSignIn(f, app)
	foreign, err := securecookie.EncodeMulti(pending.Name, map[any]any{"data": "x"},
		securecookie.New(securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		pending.Value, // genuine, with a sign-in pending but no token
		foreign,       // sealed with keys this app never had
		pending.Value[:len(pending.Value)/2],
		strings.Repeat("A", 5000),
		"",
		"MTcwMDAwMDAwMHx8",
		"a|b|c",
		"\x00\xff\"; gmail_session=x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		home := httptest.NewRequest(http.MethodGet, "/home", nil)
		home.Header.Set("Cookie", pending.Name+"="+value)
		rec := serve(app, home)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
			t.Fatalf("GET /home with cookie %.100q = %d to %q; want 303 to / (signed out)", value, rec.Code, rec.Header().Get("Location"))
		}

		index := httptest.NewRequest(http.MethodGet, "/", nil)
		index.Header.Set("Cookie", pending.Name+"="+value)
		rec = serve(app, index)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET / with cookie %.100q = %d; want 200", value, rec.Code)
		}
		if body := rec.Body.Bytes(); !bytes.Contains(body, []byte(`href="/oauth"`)) || bytes.Contains(body, []byte(`action="/logout"`)) {
			t.Fatalf("GET / with cookie %.100q shows a signed-in page; want the signed-out start page", value)
		}
	})
}
