package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// A cookie sealed before sessions were JSON, when they were gob, still
// opens, and is written back as JSON.
func TestSessionInOldGobCookieStillOpens(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	keys := [][]byte{securecookie.GenerateRandomKey(32), securecookie.GenerateRandomKey(32)}
	store, err := newSessionStore(keys, false, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	want := sessionData{Account: "hanako@example.jp", Token: &authToken{Access: "a", Refresh: "r", Expiry: now.Add(time.Hour)}, SignedIn: now}
	gobbed, err := securecookie.EncodeMulti(store.name, map[any]any{sessionValueKey: want}, securecookie.CodecsFromPairs(keys...)...)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/home", nil)
	req.AddCookie(&http.Cookie{Name: store.name, Value: gobbed})
	got, rewrite := store.load(req)
	if got.Account != want.Account || got.Token == nil || *got.Token != *want.Token || !rewrite {
		t.Fatalf("load(gob cookie) = %+v, rewrite %v; want %+v, rewrite true", got, rewrite, want)
	}

	w := httptest.NewRecorder()
	if err := store.save(w, req, got); err != nil {
		t.Fatal(err)
	}
	var reread sessionData
	cookie := w.Result().Cookies()[0]
	if err := securecookie.DecodeMulti(store.name, cookie.Value, &reread, store.store.Codecs...); err != nil || reread.Account != want.Account {
		t.Errorf("the cookie written back opens as JSON to %+v, %v; want account %s", reread, err, want.Account)
	}
	req = httptest.NewRequest(http.MethodGet, "/home", nil)
	req.AddCookie(cookie)
	if again, rewrite := store.load(req); again.Account != want.Account || rewrite {
		t.Errorf("load(JSON cookie) = %+v, rewrite %v; want account %s, no rewrite", again, rewrite, want.Account)
	}
}
