package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/i18n"
	"gmailoauth/internal/i18n/i18ntest"
	"gmailoauth/internal/web"
)

// wantJapanese fails unless resp is a page in Japanese: <html lang="ja">, the
// wanted h1, and no English sentence of the catalogue in its text.
func wantJapanese(t *testing.T, resp *apptest.Response, wantH1 string) {
	t.Helper()
	doc := apptest.Parse(t, resp.Body)
	if got := apptest.Attr(apptest.Find(doc, "html"), "lang"); got != "ja" {
		t.Errorf("%s %s: <html lang=%q>; want ja", resp.Request.Method, resp.Request.URL.Path, got)
	}
	if got := heading(t, resp); got != wantH1 {
		t.Errorf("%s %s: h1 = %q; want %q", resp.Request.Method, resp.Request.URL.Path, got, wantH1)
	}
	text := apptest.Text(doc)
	for _, a := range apptest.FindAll(doc, "*") {
		for _, attr := range []string{"title", "aria-label", "alt"} {
			text += " " + apptest.Attr(a, attr)
		}
	}
	if left := i18ntest.Untranslated(web.Catalogue, i18n.Japanese, text); len(left) > 0 {
		t.Errorf("%s %s in Japanese shows English: %q", resp.Request.Method, resp.Request.URL.Path, left)
	}
}

// TestEveryPageInJapanese walks a Japanese browser through the app: the
// start page, the sandbox's consent page, the inbox and the error pages a
// person can reach, each wholly in Japanese.
func TestEveryPageInJapanese(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.Language = "ja-JP,ja;q=0.9,en-US;q=0.8"

	start := b.Get(t, app.URL+"/")
	wantStatus(t, start, http.StatusOK)
	wantJapanese(t, start, "OAuth サンプル")
	if got := apptest.Text(apptest.Find(apptest.Parse(t, start.Body), "title")); got != "OAuth サンプル" {
		t.Errorf("GET / title = %q; want OAuth サンプル", got)
	}
	if banner := apptest.Text(apptest.Find(apptest.Parse(t, start.Body), "div.sandbox")); !strings.HasSuffix(banner, "サンドボックス版 Google が提供します。") {
		t.Errorf("GET / sandbox banner = %q; want it to end サンドボックス版 Google が提供します。", banner)
	}

	for _, tt := range []struct {
		name, method, path string
		wantStatus         int
		wantH1             string
	}{
		{name: "not found", method: http.MethodGet, path: "/no/such/page", wantStatus: http.StatusNotFound, wantH1: "ページが見つかりません"},
		{name: "wrong method", method: http.MethodGet, path: "/logout", wantStatus: http.StatusMethodNotAllowed, wantH1: "この操作はできません"},
		{name: "unknown sign-in state", method: http.MethodGet, path: "/callback?state=nope&code=x", wantStatus: http.StatusBadRequest, wantH1: "このログインは無効か、期限切れです"},
		{name: "missing static file", method: http.MethodGet, path: "/static/", wantStatus: http.StatusNotFound, wantH1: "ページが見つかりません"},
	} {
		req, err := http.NewRequest(tt.method, app.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp := b.Do(t, req)
		wantStatus(t, resp, tt.wantStatus)
		wantJapanese(t, resp, tt.wantH1)
	}

	consent := b.StartSignIn(t, app)
	if got := apptest.Attr(apptest.Find(apptest.Parse(t, consent.Page.Body), "html"), "lang"); got != "ja" {
		t.Errorf("sandbox consent page: <html lang=%q>; want ja", got)
	}
	if got := heading(t, consent.Page); got != "アカウントの選択" {
		t.Errorf("sandbox consent page: h1 = %q; want アカウントの選択", got)
	}
	declined := b.Get(t, b.Decide(t, consent, "deny").Location(t).String())
	wantRedirect(t, declined, http.StatusSeeOther, "/")
	if got := startNotice(t, b, app); !strings.HasPrefix(got, "Gmail の読み取りを許可しなかったため") {
		t.Errorf("start page after a refusal: notice = %q; want the Japanese one", got)
	}

	b.SignIn(t, app, hanako)
	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK) // where the sign-in lands
	signedIn := b.Get(t, app.URL+"/")
	wantJapanese(t, signedIn, "OAuth サンプル")
	if lede := apptest.Text(apptest.Find(apptest.Parse(t, signedIn.Body), "p.lede")); lede != hanako+" で接続しています。" {
		t.Errorf("signed-in start page says %q; want %q", lede, hanako+" で接続しています。")
	}

	inbox := b.Get(t, app.URL+"/home")
	wantStatus(t, inbox, http.StatusOK)
	wantJapanese(t, inbox, "未読メール")
	doc := apptest.Parse(t, inbox.Body)
	if got := apptest.Text(apptest.Find(doc, "p.count")); got != "未読 約75件" {
		t.Errorf("inbox count = %q; want 未読 約75件", got)
	}
	var relative int
	for _, tm := range apptest.FindAll(doc, "time") {
		if when := apptest.Text(tm); strings.HasSuffix(when, "分前") || strings.HasSuffix(when, "時間前") || when == "昨日" || strings.HasSuffix(when, "日") {
			relative++
		}
	}
	if relative == 0 {
		t.Errorf("no date on /home is written the Japanese way (N分前, N時間前, 昨日, M月D日)")
	}
	var olderLink string
	if pager := apptest.Find(doc, "nav.pager"); pager != nil {
		for _, a := range apptest.FindAll(pager, "a") {
			if apptest.Attr(a, "rel") == "next" {
				olderLink = apptest.Text(a)
			}
		}
	}
	if olderLink != "古い50件 →" {
		t.Errorf("inbox pager: next link says %q; want 古い50件 →", olderLink)
	}

	// Rows are cached per language: the same rows, asked for in English, are
	// English.
	b.Language = "en"
	english := apptest.Parse(t, b.Get(t, app.URL+"/home").Body)
	var open, openJapanese int
	for _, a := range apptest.FindAll(english, "a") {
		switch apptest.Text(a) {
		case "Open in Gmail":
			open++
		case "Gmail で開く":
			openJapanese++
		}
	}
	if open != 50 || openJapanese != 0 {
		t.Errorf("/home in English after Japanese: %d \"Open in Gmail\" and %d \"Gmail で開く\" links; want 50 and 0", open, openJapanese)
	}
	b.Language = "ja"

	older := b.Get(t, app.URL+"/home?page=a/b")
	wantStatus(t, older, http.StatusBadRequest)
	wantJapanese(t, older, "リクエストが正しくありません")
	refused := b.Do(t, crossSitePost(t, app.URL+"/logout", nil))
	wantStatus(t, refused, http.StatusForbidden)
	wantJapanese(t, refused, "リクエストを拒否しました")
}

// TestLanguageSwitch checks the switch on every page: it remembers the
// choice over the browser's Accept-Language, returns to the start page
// (the inbox returns to itself: TestLanguageSwitchReturnsToTheInboxPage),
// and never leaves the app. The page it returns to is built by the app,
// never copied from the request's URL, which a stranger may have written.
func TestLanguageSwitch(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.Language = "en-US,en;q=0.9"

	form := languageSwitch(t, b.Get(t, app.URL+"/no/such/page?x=1"))
	if form.Get("lang") != "ja" || form.Get("next") != "/" {
		t.Fatalf("switch on an English page posts %v; want lang=ja and next=/", form)
	}
	switched := b.PostForm(t, app.URL+"/language", app.URL, form)
	wantRedirect(t, switched, http.StatusSeeOther, "/")
	var lang *http.Cookie
	for _, c := range switched.Cookies() {
		if c.Name == "lang" {
			lang = c
		}
	}
	if lang == nil || lang.Value != "ja" || lang.Path != "/" || !lang.HttpOnly || lang.SameSite != http.SameSiteLaxMode || lang.MaxAge < 30*24*3600 {
		t.Errorf("switch to Japanese set cookie %+v; want lang=ja, Path=/, HttpOnly, SameSite=Lax, kept for months", lang)
	}
	wantJapanese(t, b.Get(t, app.URL+"/no/such/page?x=1"), "ページが見つかりません")

	back := b.PostForm(t, app.URL+"/language", app.URL, url.Values{"lang": {"en"}, "next": {"/"}})
	wantRedirect(t, back, http.StatusSeeOther, "/")
	if got := heading(t, b.Get(t, app.URL+"/no/such/page")); got != "Page not found" {
		t.Errorf("after switching back to English: h1 = %q; want Page not found", got)
	}

	for _, tt := range []struct {
		name       string
		origin     string // "": another site
		form       url.Values
		wantStatus int
		wantTo     string
	}{
		{name: "next on another site", origin: app.URL, form: url.Values{"lang": {"ja"}, "next": {"//evil.example/"}}, wantStatus: http.StatusSeeOther, wantTo: "/"},
		{name: "next as a full URL", origin: app.URL, form: url.Values{"lang": {"ja"}, "next": {"https://evil.example/"}}, wantStatus: http.StatusSeeOther, wantTo: "/"},
		{name: "language not offered", origin: app.URL, form: url.Values{"lang": {"fr"}, "next": {"/"}}, wantStatus: http.StatusBadRequest},
		{name: "from another site", form: url.Values{"lang": {"ja"}, "next": {"/"}}, wantStatus: http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			other := apptest.NewBrowser(t)
			var resp *apptest.Response
			if tt.origin == "" {
				resp = other.Do(t, crossSitePost(t, app.URL+"/language", tt.form))
			} else {
				resp = other.PostForm(t, app.URL+"/language", tt.origin, tt.form)
			}
			wantStatus(t, resp, tt.wantStatus)
			if tt.wantTo != "" {
				wantRedirect(t, resp, tt.wantStatus, tt.wantTo)
			}
			if tt.wantStatus != http.StatusSeeOther && len(resp.Cookies()) > 0 {
				t.Errorf("refused switch set cookies %v", resp.Cookies())
			}
		})
	}
}

// TestLanguageSwitchReturnsToTheInboxPage checks that the switch on an
// inbox page returns to that page, with its paging values as the app
// writes them and nothing else of the URL it was asked for.
func TestLanguageSwitchReturnsToTheInboxPage(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	older := olderLink(t, b.Get(t, app.URL+"/home"))
	for _, tt := range []struct{ path, want string }{
		{path: "/home", want: "/home"},
		{path: "/home?utm=x", want: "/home"},
		{path: older, want: older},
		{path: older + "&trail=abc.def&utm=x", want: older + "&trail=abc.def"},
	} {
		if got := languageSwitch(t, b.Get(t, app.URL+tt.path)).Get("next"); got != tt.want {
			t.Errorf("switch on %s returns to %q; want %q", tt.path, got, tt.want)
		}
	}
}

// languageSwitch is what the language switch on page posts: its hidden
// fields and its button's name and value.
func languageSwitch(t *testing.T, page *apptest.Response) url.Values {
	t.Helper()
	for _, form := range apptest.FindAll(apptest.Parse(t, page.Body), "form") {
		if apptest.Attr(form, "action") != "/language" || apptest.Attr(form, "method") != "post" {
			continue
		}
		values := url.Values{}
		for _, input := range apptest.FindAll(form, "input") {
			values.Add(apptest.Attr(input, "name"), apptest.Attr(input, "value"))
		}
		if button := apptest.Find(form, "button"); button != nil {
			values.Add(apptest.Attr(button, "name"), apptest.Attr(button, "value"))
		}
		return values
	}
	t.Fatalf("%s: no language switch (a POST form to /language)", page.Request.URL.Path)
	return nil
}

// crossSitePost is a form POST as another site's page sends it.
func crossSitePost(t *testing.T, rawURL string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return req
}
