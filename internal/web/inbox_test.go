package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/sandbox"
)

func TestSignInAndInbox(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	if got := env.Sandbox.Stats().TokenCalls; got != 1 {
		t.Errorf("token endpoint calls = %d; want 1", got)
	}

	first := b.Get(t, app.URL+"/home")
	wantStatus(t, first, http.StatusOK)
	if got := first.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("GET /home Cache-Control = %q; want no-store", got)
	}
	doc := apptest.Parse(t, first.Body)
	if n := messageCount(t, first); n != 50 {
		t.Fatalf("GET /home shows %d messages; want 50", n)
	}
	count := apptest.Text(apptest.Find(doc, "p.count"))
	if !strings.HasPrefix(count, "About ") || !strings.Contains(count, " unread") {
		t.Errorf("count = %q; want \"About N unread\"", count)
	}
	if who := apptest.Find(doc, "span.who"); who == nil || apptest.Text(who) != hanako {
		t.Errorf("header does not name the account %s", hanako)
	}
	pager := apptest.Find(doc, "nav.pager")
	if pager == nil {
		t.Fatal("GET /home: no pager; want an Older link (more than 50 unread)")
	}
	older := apptest.Find(pager, "a")
	if apptest.Text(older) != "Older →" {
		t.Fatalf("pager link = %q; want Older →", apptest.Text(older))
	}

	second := b.Get(t, app.URL+apptest.Attr(older, "href"))
	wantStatus(t, second, http.StatusOK)
	total := 50 + messageCount(t, second)
	seen := map[string]bool{} // message IDs, each row's first <code>
	for _, resp := range []*apptest.Response{first, second} {
		for _, li := range apptest.FindAll(apptest.Parse(t, resp.Body), "li.message") {
			seen[apptest.Text(apptest.Find(li, "code"))] = true
		}
	}
	if total <= 50 || total > 100 {
		t.Errorf("two pages show %d messages; want 51..100", total)
	}
	if len(seen) != total {
		t.Errorf("two pages show %d messages, %d of them different; want no message on both pages", total, len(seen))
	}
	secondDoc := apptest.Parse(t, second.Body)
	links := apptest.FindAll(apptest.Find(secondDoc, "nav.pager"), "a")
	if len(links) != 1 || apptest.Text(links[0]) != "← Newer" || apptest.Attr(links[0], "href") != "/home" {
		t.Errorf("last page pager = %d links; want only \"← Newer\" to /home", len(links))
	}
}

func TestInboxEmptyMailbox(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, empty)
	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	doc := apptest.Parse(t, resp.Body)
	if h := apptest.Find(doc, "h2"); h == nil || apptest.Text(h) != "No unread messages" {
		t.Errorf("empty mailbox page lacks \"No unread messages\"\n%s", clipBody(resp.Body))
	}
	if n := messageCount(t, resp); n != 0 {
		t.Errorf("empty mailbox shows %d messages", n)
	}
}

func TestInboxStalePageToken(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	resp := b.Get(t, app.URL+"/home?page=12345678901234567890")
	wantStatus(t, resp, http.StatusBadRequest)
	if got := heading(t, resp); got != "That page of your inbox is out of date" {
		t.Errorf("h1 = %q; want the stale-page page", got)
	}
	wantStatus(t, b.Get(t, app.URL+"/home?page=not/a/token"), http.StatusBadRequest)
}

func TestHomeSignedOutGoesToStart(t *testing.T) {
	_, app := start(t, apptest.Options{})
	wantRedirect(t, apptest.NewBrowser(t).Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
}

func TestInboxRendersStrangersTextSafely(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	var pages [][]byte
	for path := "/home"; path != "" && len(pages) < 5; {
		resp := b.Get(t, app.URL+path)
		wantStatus(t, resp, http.StatusOK)
		pages = append(pages, resp.Body)
		path = ""
		if pager := apptest.Find(apptest.Parse(t, resp.Body), "nav.pager"); pager != nil {
			for _, a := range apptest.FindAll(pager, "a") {
				if apptest.Attr(a, "rel") == "next" {
					path = apptest.Attr(a, "href")
				}
			}
		}
	}
	all := bytes.Join(pages, nil)
	if bytes.Contains(all, []byte("<script")) {
		t.Errorf("inbox contains a raw <script: strangers' HTML reached the page unescaped")
	}
	var subjects, senders []string
	for _, page := range pages {
		doc := apptest.Parse(t, page)
		for _, p := range apptest.FindAll(doc, "h2.subject") {
			subjects = append(subjects, apptest.Text(p))
		}
		for _, s := range apptest.FindAll(doc, "span.from") {
			senders = append(senders, apptest.Text(s))
		}
	}
	wantSubject := func(part string) {
		t.Helper()
		if !slices.ContainsFunc(subjects, func(s string) bool { return strings.Contains(s, part) }) {
			t.Errorf("no subject shows %q as text", part)
		}
	}
	wantSubject(`<script>alert("x")</script>`) // shown as text, not run
	wantSubject("(no subject)")
	wantSubject("【重要】")
	if !slices.ContainsFunc(senders, func(s string) bool { return strings.Contains(s, "佐藤") }) {
		t.Errorf("no Japanese sender name among %d senders", len(senders))
	}
	if bytes.Contains(all, []byte("&amp;#39;")) || bytes.Contains(all, []byte("&amp;lt;")) {
		t.Errorf("a snippet was escaped twice (&amp;#39; or &amp;lt; on the page)")
	}
	// A stranger's right-to-left text must not reorder what stands beside
	// it: each stranger's text is isolated, its direction its own.
	for _, page := range pages {
		for _, row := range apptest.FindAll(apptest.Parse(t, page), "li.message") {
			for _, selector := range []string{"h2.subject", "span.from", "span.address", "p.snippet"} {
				for _, n := range apptest.FindAll(row, selector) {
					if apptest.Attr(n, "dir") != "auto" {
						t.Errorf("%s %q has dir=%q; want auto, isolating its text", selector, apptest.Text(n), apptest.Attr(n, "dir"))
					}
				}
			}
		}
	}
}

func TestInboxShowsDatesAndLinks(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	items := apptest.FindAll(apptest.Parse(t, resp.Body), "li.message")
	if len(items) != 50 {
		t.Fatalf("GET /home shows %d messages; want 50", len(items))
	}
	var dated, linked int
	for _, li := range items {
		if tm := apptest.Find(li, "time"); tm != nil {
			if _, err := time.Parse(time.RFC3339, apptest.Attr(tm, "datetime")); err != nil {
				t.Errorf("<time datetime=%q>: %v", apptest.Attr(tm, "datetime"), err)
			}
			if apptest.Text(tm) == "" {
				t.Errorf("<time> without text")
			}
			dated++
		}
		for _, a := range apptest.FindAll(li, "a") {
			if strings.Contains(apptest.Attr(a, "href"), "/message/") && apptest.Attr(a, "rel") == "noopener noreferrer" {
				linked++
			}
		}
	}
	if dated < len(items)-1 || linked != len(items) {
		t.Errorf("%d messages: %d dated, %d linked to the message; want all linked and all but at most one dated", len(items), dated, linked)
	}
}

func TestInboxKeepsMessagesWhoseDetailsFailed(t *testing.T) {
	env, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	// One metadata call fails for good (404 is not retried); the rest of
	// the page must still show.
	env.Sandbox.InjectFaults(sandbox.Fault{Call: "get", Status: 404})
	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	doc := apptest.Parse(t, resp.Body)
	failed := apptest.FindAll(doc, "li.failed")
	if len(failed) != 1 || messageCount(t, resp) != 50 {
		t.Fatalf("GET /home: %d messages, %d failed; want 50 with 1 failed", messageCount(t, resp), len(failed))
	}
	if ids := apptest.FindAll(failed[0], "code"); len(ids) != 2 || apptest.Text(ids[0]) == "" {
		t.Errorf("the failed message does not show its ID and thread ID")
	}
	if notice := apptest.Find(doc, "p.notice"); notice == nil || !strings.Contains(apptest.Text(notice), "1 message") {
		t.Errorf("no quiet note about the message whose details failed")
	}
	// The failure was not cached: the next view has every message whole.
	again := b.Get(t, app.URL+"/home")
	if n := len(apptest.FindAll(apptest.Parse(t, again.Body), "li.failed")); n != 0 {
		t.Errorf("second view: %d failed messages; want 0 (failures are not cached)", n)
	}
}

func TestInboxCacheKeepsAccountsApart(t *testing.T) {
	cache := gmail.NewCache(1 << 20)
	_, app := start(t, apptest.Options{Cache: cache})
	subjects := func(account string) []string {
		t.Helper()
		b := apptest.NewBrowser(t)
		b.SignIn(t, app, account)
		var out []string
		for range 2 { // the second view is served from the cache
			out = nil
			for _, p := range apptest.FindAll(apptest.Parse(t, b.Get(t, app.URL+"/home").Body), "h2.subject") {
				out = append(out, apptest.Text(p))
			}
		}
		return out
	}
	hanakos, alexs := subjects(hanako), subjects(alex)
	for _, s := range alexs {
		if slices.Contains(hanakos, s) {
			t.Errorf("alex's inbox shows %q, which is hanako's", s)
		}
	}
	if len(alexs) == 0 || len(hanakos) != 50 || cache.Len() != 50+len(alexs) {
		t.Errorf("hanako %d, alex %d messages, cache %d entries; want 50, >0, their sum", len(hanakos), len(alexs), cache.Len())
	}
}

func TestGmailFailures(t *testing.T) {
	tests := []struct {
		name           string
		faults         []sandbox.Fault
		wantStatus     int
		wantH1         string
		wantRetryAfter string
		wantSignedOut  bool
		// deadlines, when set, are the page's and each call's: short,
		// for a case that must outlast them.
		deadlines [2]time.Duration
	}{
		{name: "401 token refused", faults: []sandbox.Fault{{Call: "list", Status: 401}}, wantStatus: 303, wantSignedOut: true},
		{name: "403 forbidden", faults: []sandbox.Fault{{Call: "list", Status: 403}}, wantStatus: 403, wantH1: "Permission missing"},
		{name: "429 rate limited", faults: repeat(sandbox.Fault{Call: "list", Status: 429, RetryAfter: 30 * time.Second}, 4), wantStatus: 429, wantH1: "Gmail asks us to slow down", wantRetryAfter: "30"},
		{name: "403 project rate limit", faults: repeat(sandbox.Fault{Call: "list", Status: 403, Reason: "rateLimitExceeded", RetryAfter: 30 * time.Second}, 4), wantStatus: 429, wantH1: "Gmail asks us to slow down", wantRetryAfter: "30"},
		{name: "403 user rate limit", faults: repeat(sandbox.Fault{Call: "list", Status: 403, Reason: "userRateLimitExceeded", RetryAfter: 30 * time.Second}, 4), wantStatus: 429, wantH1: "Gmail asks us to slow down", wantRetryAfter: "30"},
		{name: "500s", faults: repeat(sandbox.Fault{Call: "list", Status: 500}, 4), wantStatus: 502, wantH1: "Gmail isn't answering"},
		{name: "503s", faults: repeat(sandbox.Fault{Call: "list", Status: 503}, 4), wantStatus: 502, wantH1: "Gmail isn't answering"},
		{name: "timeout", faults: repeat(sandbox.Fault{Call: "list", Delay: 10 * time.Second}, 4), deadlines: [2]time.Duration{2 * time.Second, 500 * time.Millisecond}, wantStatus: 502, wantH1: "Gmail isn't answering"},
		{name: "malformed JSON", faults: repeat(sandbox.Fault{Call: "list", Malformed: true}, 4), wantStatus: 502, wantH1: "Gmail isn't answering"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Production's Gmail deadlines, but for the timeout case's,
			// short enough that the test does not wait 8 s, long enough for
			// the profile call beside the list on a busy machine; the
			// delayed calls outlast them on any machine.
			t.Parallel()
			env, app := start(t, apptest.Options{PageTimeout: tt.deadlines[0], CallTimeout: tt.deadlines[1]})
			b := apptest.NewBrowser(t)
			b.SignIn(t, app, hanako)
			env.Sandbox.InjectFaults(tt.faults...)
			resp := b.Get(t, app.URL+"/home")
			wantStatus(t, resp, tt.wantStatus)
			if tt.wantH1 != "" {
				if got := heading(t, resp); got != tt.wantH1 {
					t.Errorf("h1 = %q; want %q", got, tt.wantH1)
				}
				if apptest.Find(apptest.Parse(t, resp.Body), "span.who") == nil {
					t.Errorf("error page header does not show the signed-in account (and its Sign out)")
				}
			}
			if got := resp.Header.Get("Retry-After"); got != tt.wantRetryAfter {
				t.Errorf("Retry-After = %q; want %q", got, tt.wantRetryAfter)
			}
			if bytes.Contains(resp.Body, []byte("goroutine ")) || bytes.Contains(resp.Body, []byte("gmail:")) {
				t.Errorf("error page shows internals:\n%s", clipBody(resp.Body))
			}
			env.Sandbox.ClearFaults()
			next := b.Get(t, app.URL+"/home")
			if tt.wantSignedOut {
				wantRedirect(t, resp, http.StatusSeeOther, "/")
				wantRedirect(t, next, http.StatusSeeOther, "/")
				if !strings.Contains(startNotice(t, b, app), "Connect again") {
					t.Errorf("start page after a refused token does not explain it")
				}
			} else {
				wantStatus(t, next, http.StatusOK)
			}
		})
	}
}

func repeat(f sandbox.Fault, n int) []sandbox.Fault {
	out := make([]sandbox.Fault, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func TestTokenRefresh(t *testing.T) {
	env, app := start(t, apptest.Options{})
	// The app counts a token due 10 s before its expiry, as
	// golang.org/x/oauth2 does, so a token issued with a 5 s lifetime is
	// already due: the one stored at sign-in will be refreshed at the next
	// page view, without waiting.
	env.Sandbox.SetAccessTokenTTL(5 * time.Second)
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	env.Sandbox.SetAccessTokenTTL(time.Hour)
	appURL, _ := url.Parse(app.URL)
	before := b.Jar.Cookies(appURL)[0].Value
	grants := env.Sandbox.Stats().RefreshGrants

	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	if got := env.Sandbox.Stats().RefreshGrants; got != grants+1 {
		t.Errorf("refresh grants = %d; want %d", got, grants+1)
	}
	if len(resp.Cookies()) != 1 || b.Jar.Cookies(appURL)[0].Value == before {
		t.Errorf("GET /home after a refresh set %d cookies; want the new token written back", len(resp.Cookies()))
	}

	again := b.Get(t, app.URL+"/home")
	wantStatus(t, again, http.StatusOK)
	if got := env.Sandbox.Stats().RefreshGrants; got != grants+1 {
		t.Errorf("refresh grants = %d; want %d: the stored fresh token is used as it is", got, grants+1)
	}
	if len(again.Cookies()) != 0 {
		t.Errorf("GET /home with a fresh token set %d cookies; want none", len(again.Cookies()))
	}
}

func TestRevokedRefreshTokenSignsInAgain(t *testing.T) {
	env, app := start(t, apptest.Options{})
	env.Sandbox.SetAccessTokenTTL(5 * time.Second)
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	env.Sandbox.RevokeAccount(hanako)
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
	wantRedirect(t, b.Get(t, app.URL+"/home"), http.StatusSeeOther, "/")
	if startNotice(t, b, app) == "" {
		t.Errorf("start page does not say why the person was signed out")
	}
}

// TestInboxDecodesEveryCharset signs in to the sandbox mailbox that holds
// mail with headers in legacy charsets, some cut inside a character, and
// checks the inbox shows each sender and subject as the sender wrote them.
func TestInboxDecodesEveryCharset(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	shown := make(map[string]string) // subject → sender
	for _, li := range apptest.FindAll(apptest.Parse(t, resp.Body), "li.message") {
		if subject, from := apptest.Find(li, "h2.subject"), apptest.Find(li, "span.from"); subject != nil && from != nil {
			shown[apptest.Text(subject)] = apptest.Text(from)
		}
	}
	tests := []struct {
		charset, from, subject string
	}{
		{charset: "ISO-2022-JP, cut inside a character", from: "株式会社サンプル商事", subject: "【ご案内】年末年始の営業時間について"},
		{charset: "Shift_JIS, cut inside a character", from: "木村 拓也", subject: "明日の会議資料を送付します"},
		{charset: "EUC-JP", from: "斎藤 恵", subject: "旅行の写真を共有します"},
		{charset: "GB18030", from: "王伟", subject: "季度报告已更新"},
		{charset: "Big5", from: "陳志明", subject: "會議紀錄"},
		{charset: "EUC-KR", from: "김민준", subject: "회의 일정 안내"},
		{charset: "KOI8-R", from: "Иван Петров", subject: "Привет из Москвы"},
		{charset: "windows-1251", from: "Ольга Смирнова", subject: "Отчёт за ноябрь"},
		{charset: "ISO-8859-2 in Q", from: "Łukasz Wójcik", subject: "Spotkanie w środę"},
		{charset: "windows-1252 in Q", from: "Zoë Lefèvre", subject: "Réunion: 5 € le café"},
		{charset: "UTF-8, cut inside a character", from: "渡辺 結衣", subject: "日本語の件名が二つの語に分かれる"},
		{charset: "a label no one can decode, shown as it came", from: "Old Mailer", subject: "=?unknown-8bit?Q?Men=FC_f=FCr_Freitag?="},
	}
	for _, tt := range tests {
		from, ok := shown[tt.subject]
		if !ok {
			t.Errorf("%s: no message with subject %q on /home", tt.charset, tt.subject)
			continue
		}
		if from != tt.from {
			t.Errorf("%s: sender of %q = %q; want %q", tt.charset, tt.subject, from, tt.from)
		}
	}
}

// TestInboxMarksJapaneseText: on an English page, a subject, sender or
// snippet written in Japanese carries lang="ja", so that a screen reader
// reads it in a Japanese voice. Text that may be in another language
// carries none, and on a Japanese page no row needs one.
func TestInboxMarksJapaneseText(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.Language = "en"
	b.SignIn(t, app, hanako)
	// langs maps each row's subject to the lang of its subject, sender and
	// snippet, "-" for none.
	langs := func() map[string]string {
		t.Helper()
		resp := b.Get(t, app.URL+"/home")
		wantStatus(t, resp, http.StatusOK)
		shown := make(map[string]string)
		for _, li := range apptest.FindAll(apptest.Parse(t, resp.Body), "li.message") {
			var got []string
			for _, selector := range []string{"h2.subject", "span.from", "p.snippet"} {
				lang := "-"
				if n := apptest.Find(li, selector); n != nil && apptest.Attr(n, "lang") != "" {
					lang = apptest.Attr(n, "lang")
				}
				got = append(got, lang)
			}
			if subject := apptest.Find(li, "h2.subject"); subject != nil {
				shown[apptest.Text(subject)] = strings.Join(got, " ")
			}
		}
		return shown
	}
	english := langs()
	tests := []struct {
		subject string
		want    string // subject, sender, snippet
	}{
		{subject: "【ご案内】年末年始の営業時間について", want: "ja ja ja"}, // the sender 株式会社サンプル商事 has katakana
		{subject: "明日の会議資料を送付します", want: "ja - ja"},       // 木村 拓也: kanji alone
		{subject: "季度报告已更新", want: "- - -"},               // Chinese
		{subject: "會議紀錄", want: "- - -"},                  // kanji alone
		{subject: "회의 일정 안내", want: "- - -"},
		{subject: "Réunion: 5 € le café", want: "- - -"},
	}
	for _, tt := range tests {
		if got, ok := english[tt.subject]; !ok {
			t.Errorf("no row with subject %q on /home", tt.subject)
		} else if got != tt.want {
			t.Errorf("English /home: lang of the subject, sender and snippet of %q = %s; want %s", tt.subject, got, tt.want)
		}
	}

	b.Language = "ja"
	japanese := langs()
	if len(japanese) != len(english) {
		t.Errorf("Japanese /home shows %d subjects; English showed %d", len(japanese), len(english))
	}
	for subject, got := range japanese {
		if got != "- - -" {
			t.Errorf("Japanese /home: lang of the subject, sender and snippet of %q = %s; want none", subject, got)
		}
	}
}

// TestRefreshedTokenIsKeptWhenGmailFails checks that a token refreshed for
// a view is written back even when the Gmail call after it fails, so the
// next view uses it instead of refreshing again.
func TestRefreshedTokenIsKeptWhenGmailFails(t *testing.T) {
	clk := apptest.NewClock()
	env, app := start(t, apptest.Options{Now: clk.Now})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	clk.Advance(2 * time.Hour)
	env.Sandbox.InjectFaults(repeat(sandbox.Fault{Call: "list", Status: 500}, 4)...)
	grants := env.Sandbox.Stats().RefreshGrants

	failed := b.Get(t, app.URL+"/home")
	wantStatus(t, failed, http.StatusBadGateway)
	if got := env.Sandbox.Stats().RefreshGrants; got != grants+1 {
		t.Fatalf("refresh grants = %d; want %d", got, grants+1)
	}
	if len(failed.Cookies()) != 1 {
		t.Errorf("GET /home that refreshed and then failed set %d cookies; want the refreshed token written back", len(failed.Cookies()))
	}

	wantStatus(t, b.Get(t, app.URL+"/home"), http.StatusOK)
	if got := env.Sandbox.Stats().RefreshGrants; got != grants+1 {
		t.Errorf("refresh grants after the next view = %d; want %d: the kept token is used as it is", got, grants+1)
	}
}
