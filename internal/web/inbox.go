package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"gmailoauth/internal/gmail"
	"gmailoauth/internal/i18n"
)

// pageSize is how many unread messages one inbox page shows.
const pageSize = 50

// Bounds on the paging values in the inbox URL.
const (
	maxPageTokenLen = 256
	maxTrail        = 100
)

// inboxData is the template data of the inbox page.
type inboxData struct {
	layoutData
	List       template.HTML // the messages' rows, rendered by the "list" template; "" for none
	Estimate   int           // Gmail's resultSizeEstimate: "about N unread"
	PageNumber int           // 1 for the newest page
	Older      string        // link to the next (older) page, or ""
	Newer      string        // link to the previous (newer) page, or ""
	Failed     int           // messages whose details could not be fetched
}

// messageView is the template data of one row of the inbox.
type messageView struct {
	Lang         i18n.Lang
	ID, ThreadID string
	FromName     string // display name, or the address when there is none
	FromEmail    string
	Subject      string
	Snippet      string // plain text; the template escapes it once
	When         string // "3 hours ago", "Nov 3", "Mar 4, 2024"; "3時間前", "11月3日"
	DateTime     string // RFC 3339 for <time datetime>
	FullDate     string // the exact date, on hover
	Link         string // opens the message in Gmail
	Failed       bool   // details could not be fetched; only the IDs are known
	// FromLang, SubjectLang and SnippetLang name the language their text is
	// sure to be in when the page is in another (i18n.WrittenIn), else "".
	FromLang, SubjectLang, SnippetLang i18n.Lang
}

// handleHome serves GET /home: the signed-in person's unread messages, 50 a
// page. A refreshed access token is written back into the session, whatever
// happens to the Gmail call after it. A token that is due and cannot be
// refreshed (Google gave no refresh token) is renewed by a silent
// re-authorization that comes back to this same page.
func (s *Server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, rewrite := s.sessions.load(r)
		if data.Token == nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		paging, ok := parsePaging(r.URL.Query())
		if !ok {
			s.renderProblem(w, r, problemBadRequest)
			return
		}
		// A view right after a silent re-authorization ends its chain.
		chained := !data.Renewed.IsZero() && s.now().Sub(data.Renewed) < maxRenewalChain
		if !data.Renewed.IsZero() {
			data.Renewed = time.Time{}
			rewrite = true
		}
		if data.Token.Refresh == "" && data.Token.due(s.now()) {
			s.startRenewal(w, r, data, paging.link(), chained)
			return
		}

		ctx, cancel := context.WithTimeout(r.Context(), s.pageTimeout)
		defer cancel()
		// The app's clock decides when a token is due, not the time.Now
		// inside golang.org/x/oauth2: an expiry long past makes it refresh
		// now, none makes it use the token as it is.
		tok := data.Token.oauthToken()
		tok.Expiry = time.Time{}
		if data.Token.due(s.now()) {
			tok.Expiry = time.Unix(1, 0)
		}
		client, source := s.gmailFor(ctx, tok, data.Account)
		page, err := client.Unread(ctx, paging.token, pageSize)

		if updated, changed := data.Token.updatedBy(s.stamped(source.latest())); changed {
			data.Token = updated
			rewrite = true
		}
		if err != nil {
			s.gmailFailed(w, r, data, rewrite, err)
			return
		}
		if rewrite && !s.saveSession(w, r, data) {
			return
		}
		view := inboxData{
			layoutData: s.layout(r, "inbox.title", data),
			Estimate:   page.ResultSizeEstimate,
			PageNumber: paging.number(),
			Older:      paging.olderLink(page.NextPageToken),
			Newer:      paging.newerLink(),
		}
		list, failed, err := s.list(data.Account, page.Messages, s.now().In(s.location), view.Lang)
		if err != nil {
			s.renderFailed(w, r, s.pages.list, err)
			return
		}
		view.Failed = failed
		if list.signature == "" {
			view.List = list.html
			s.render(w, r, http.StatusOK, s.pages.inbox, view)
			return
		}
		kept, err := s.inboxPage(data.Account, page.Messages[0].ID, view, list, acceptsGzip(r))
		if err != nil {
			s.renderFailed(w, r, s.pages.inbox, err)
			return
		}
		writePage(w, r, http.StatusOK, kept.plain, kept.gzipped)
	})
}

// gmailFailed turns a failed Gmail call into what the person sees. It is
// the one place where Gmail's errors become statuses and pages. rewrite
// says the session changed (a refreshed token) and must be saved with the
// page.
func (s *Server) gmailFailed(w http.ResponseWriter, r *http.Request, data sessionData, rewrite bool, err error) {
	show := func(p problem) {
		if rewrite && !s.saveSession(w, r, data) {
			return
		}
		s.renderProblem(w, r, p)
	}
	var retrieve *oauth2.RetrieveError
	switch {
	case errors.As(err, &retrieve):
		// The refresh failed. invalid_grant means the grant is gone
		// (revoked, or a Testing app's week is up); a 5xx is Google being
		// down; any other refusal is the app's client being refused.
		s.log.Warn("token refresh failed", "error", retrieve.ErrorCode, "status", retrieve.Response.StatusCode)
		switch {
		case retrieve.ErrorCode == "invalid_grant":
			s.signInAgain(w, r, data)
		case retrieve.Response.StatusCode >= 500:
			show(problemGoogleDown)
		default:
			show(problemRenewalRefused)
		}
	case errors.Is(err, gmail.ErrUnauthorized):
		s.log.Info("gmail refused the token")
		s.signInAgain(w, r, data)
	case errors.Is(err, gmail.ErrForbidden):
		s.log.Warn("gmail forbidden", "err", err)
		show(problemForbidden)
	case errors.Is(err, gmail.ErrBadRequest):
		// Gmail refused the request itself: with a well-formed URL that is a
		// page token that is stale or not Gmail's.
		s.log.Warn("gmail refused the request", "err", err)
		show(problemStalePage)
	case errors.Is(err, gmail.ErrRateLimited):
		s.log.Warn("gmail rate limited", "err", err)
		p := problemRateLimited
		p.retryAfter = max(gmail.RetryAfter(err), 5*time.Second)
		show(p)
	default:
		s.log.Warn("gmail failed", "err", err)
		show(problemGmailDown)
	}
}

// signInAgain drops a token Google no longer honours and sends the person
// to the start page, which explains why.
func (s *Server) signInAgain(w http.ResponseWriter, r *http.Request, data sessionData) {
	data.signOut(noticeExpired)
	if !s.saveSession(w, r, data) {
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// cachedRow is a message's rendered row as kept in the metadata cache,
// with the relative date it shows.
type cachedRow struct {
	when string
	html template.HTML
}

// cachedList is a page's rendered list of rows as kept in the metadata
// cache, beside its first message, with the messages and relative dates it
// shows (signature).
type cachedList struct {
	signature string
	fragment
}

// list returns the rows of messages in language lang, with a signature of
// what they show (empty when they are not kept), and how many of them are
// only IDs because their details failed. Each row costs dozens of escaper
// calls, and placing it in the list one more, so both are kept beside the
// messages' metadata in the cache, under account and lang: a row never
// shows for another account or in another language. The relative dates are
// worked out on every view, and what is kept serves only while it shows the
// same ones; otherwise it is rendered again and replaces what was kept.
// Failed messages are never kept: the next view tries them again.
func (s *Server) list(account string, messages []gmail.Summary, now time.Time, lang i18n.Lang) (cachedList, int, error) {
	if len(messages) == 0 {
		return cachedList{}, 0, nil
	}
	whens := make([]string, len(messages))
	failed := 0
	var signature strings.Builder
	signature.Grow(len(messages) * 40)
	for i, m := range messages {
		if m.Err != nil {
			failed++
		} else if !m.Date.IsZero() {
			whens[i] = relativeDate(m.Date.In(s.location), now, lang)
		}
		signature.WriteString(m.ID)
		signature.WriteByte(0)
		signature.WriteString(whens[i])
		signature.WriteByte(0)
	}
	cache := s.gmail.Cache()
	keep := cache != nil && failed == 0
	if keep {
		if kept, ok := cache.Rendering(account, messages[0].ID, listRendering(lang)); ok && kept.(cachedList).signature == signature.String() {
			return kept.(cachedList), 0, nil
		}
	}
	rows := make([]template.HTML, len(messages))
	for i, m := range messages {
		var err error
		if rows[i], err = s.row(account, m, whens[i], lang); err != nil {
			return cachedList{}, 0, err
		}
	}
	html, err := s.execute(s.pages.list, rows)
	if err != nil {
		return cachedList{}, 0, err
	}
	if !keep {
		return cachedList{fragment: fragment{html: html}}, failed, nil
	}
	list := cachedList{signature: signature.String(), fragment: fragment{html: html}}
	s.keepList(account, messages[0].ID, lang, list)
	return list, failed, nil
}

// listRendering names a list in lang among a message's renderings.
func listRendering(lang i18n.Lang) string { return string(lang) + "/list" }

// keepList keeps list, in lang, beside firstID, the first message it shows.
func (s *Server) keepList(account, firstID string, lang i18n.Lang, list cachedList) {
	s.gmail.Cache().SetRendering(account, firstID, listRendering(lang), list, int64(len(list.signature))+list.size())
}

// cachedPage is a whole inbox page as kept beside its first message, with
// everything it shows (data, its list by signature), and gzipped once a
// view asked for it.
type cachedPage struct {
	data           inboxData
	list           string
	plain, gzipped []byte
}

// inboxPage returns the inbox page showing view with list as its List
// (view.List is left empty: list.signature stands for it in the
// comparisons), gzipped too if gzipped: the kept one if it shows exactly
// the same (the same list, dates and all, the same estimate, links, account
// and language), else a new one, which it keeps instead. A repeat view with
// nothing changed is then written as it was, compressed as it was. The list
// and the page are compressed when a view first asks for it, once each: the
// list's DEFLATE then serves every page around it (see gzipPage).
func (s *Server) inboxPage(account, firstID string, view inboxData, list cachedList, gzipped bool) (cachedPage, error) {
	key := string(view.Lang) + "/page"
	cache := s.gmail.Cache()
	var page cachedPage
	if kept, ok := cache.Rendering(account, firstID, key); ok {
		page = kept.(cachedPage)
		if page.data != view || page.list != list.signature {
			page = cachedPage{}
		} else if !gzipped || page.gzipped != nil {
			return page, nil
		}
	}
	if page.plain == nil {
		buf := getBuffer()
		defer putBuffer(buf)
		withList := view
		withList.List = list.html
		if err := s.pages.inbox.Execute(buf, withList); err != nil {
			return cachedPage{}, err
		}
		page = cachedPage{data: view, list: list.signature, plain: bytes.Clone(buf.Bytes())}
	}
	if gzipped {
		if list.deflated == nil {
			list.fragment = newFragment(list.html)
			s.keepList(account, firstID, view.Lang, list)
		}
		buf := getBuffer()
		defer putBuffer(buf)
		gzipPage(buf, page.plain, list.fragment)
		page.gzipped = bytes.Clone(buf.Bytes())
	}
	cache.SetRendering(account, firstID, key, page, int64(len(page.plain)+len(page.gzipped)+len(view.Here)+len(view.Older)+len(view.Newer)))
	return page, nil
}

// row returns message m's row in language lang, showing when as its
// relative date: the kept one if it shows the same date, else a new one.
func (s *Server) row(account string, m gmail.Summary, when string, lang i18n.Lang) (template.HTML, error) {
	cache := s.gmail.Cache()
	keep := cache != nil && m.Err == nil
	if keep {
		if kept, ok := cache.Rendering(account, m.ID, string(lang)); ok && kept.(cachedRow).when == when {
			return kept.(cachedRow).html, nil
		}
	}
	html, err := s.execute(s.pages.row, s.messageView(account, m, when, lang))
	if err != nil {
		return "", err
	}
	if keep {
		cache.SetRendering(account, m.ID, string(lang), cachedRow{when: when, html: html}, int64(len(when)+len(html)))
	}
	return html, nil
}

// execute renders a fragment of a page.
func (s *Server) execute(t *template.Template, data any) (template.HTML, error) {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := t.Execute(buf, data); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}

// messageView prepares one message for its row in lang; when is its
// relative date.
func (s *Server) messageView(account string, m gmail.Summary, when string, lang i18n.Lang) messageView {
	v := messageView{Lang: lang, ID: m.ID, ThreadID: m.ThreadID, Link: s.messageURL(account, m.ID)}
	if m.Err != nil {
		v.Failed = true
		return v
	}
	v.FromName, v.FromEmail = m.From.Name, m.From.Email
	if v.FromName == "" {
		v.FromName = m.From.Email
	}
	v.Subject = m.Subject
	v.Snippet = m.Snippet
	v.FromLang = i18n.WrittenIn(v.FromName, lang)
	v.SubjectLang = i18n.WrittenIn(v.Subject, lang)
	v.SnippetLang = i18n.WrittenIn(v.Snippet, lang)
	if !m.Date.IsZero() {
		date := m.Date.In(s.location)
		v.When = when
		v.DateTime = date.Format(time.RFC3339)
		v.FullDate = fullDate(date, lang)
	}
	return v
}

// relativeDate says when a message came, as each language says it:
// relative for today ("5 minutes ago", "5分前"), "Yesterday" ("昨日"), month
// and day this year ("Nov 24", "11月24日"), the full date before.
func relativeDate(t, now time.Time, lang i18n.Lang) string {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	sameDay := y1 == y2 && m1 == m2 && d1 == d2
	yy, ym, yd := now.AddDate(0, 0, -1).Date()
	yesterday := y1 == yy && m1 == ym && d1 == yd
	ago := now.Sub(t)
	switch {
	case sameDay && ago < time.Minute && ago > -time.Minute:
		return text(lang, "date.justNow")
	case sameDay && ago >= time.Minute && ago < time.Hour:
		return plural(lang, "date.minutesAgo", int(ago/time.Minute))
	case sameDay && ago >= time.Hour:
		return plural(lang, "date.hoursAgo", int(ago/time.Hour))
	case sameDay:
		return t.Format("15:04")
	case yesterday:
		return text(lang, "date.yesterday")
	case y1 == y2 && lang == i18n.Japanese:
		return t.Format("1月2日")
	case y1 == y2:
		return t.Format("Jan 2")
	case lang == i18n.Japanese:
		return t.Format("2006年1月2日")
	default:
		return t.Format("Jan 2, 2006")
	}
}

var japaneseWeekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

// fullDate is the exact date, shown on hover.
func fullDate(t time.Time, lang i18n.Lang) string {
	if lang == i18n.Japanese {
		return t.Format("2006年1月2日") + "（" + japaneseWeekdays[t.Weekday()] + "）" + t.Format("15:04 MST")
	}
	return t.Format("Mon, 2 Jan 2006 15:04 MST")
}

// text and plural read the catalogue from Go code, whose keys are fixed;
// TestRelativeDate shows each one's text in both languages (a missing key
// would show as the key itself).
func text(lang i18n.Lang, key string) string {
	t, err := catalogue.Text(lang, key)
	if err != nil {
		return key
	}
	return t
}

func plural(lang i18n.Lang, key string, n int) string {
	t, err := catalogue.Plural(lang, key, n)
	if err != nil {
		return key
	}
	return t
}

// paging is where in the unread list a page is: the Gmail page token of
// this page and the tokens of the pages before it (Gmail gives only "next",
// so the way back travels in the URL). Page tokens are not secrets.
type paging struct {
	token string
	trail []string
}

func parsePaging(q url.Values) (paging, bool) {
	p := paging{token: q.Get("page")}
	if t := q.Get("trail"); t != "" {
		p.trail = strings.Split(t, ".")
	}
	if len(p.trail) > maxTrail || (p.token == "" && len(p.trail) > 0) {
		return paging{}, false
	}
	for _, tok := range append([]string{p.token}, p.trail...) {
		if !validPageToken(tok, tok == p.token) {
			return paging{}, false
		}
	}
	return p, true
}

// validPageToken accepts Gmail's opaque tokens: URL-safe, bounded.
func validPageToken(tok string, mayBeEmpty bool) bool {
	if tok == "" {
		return mayBeEmpty
	}
	if len(tok) > maxPageTokenLen {
		return false
	}
	for _, c := range tok {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p paging) number() int {
	if p.token == "" {
		return 1
	}
	return len(p.trail) + 2
}

func (p paging) olderLink(next string) string {
	if next == "" || !validPageToken(next, false) {
		return ""
	}
	trail := p.trail
	if p.token != "" {
		if len(trail) >= maxTrail {
			// Too deep to remember the way back: forget the oldest steps.
			trail = trail[1:]
		}
		trail = append(trail[:len(trail):len(trail)], p.token)
	}
	return pageLink(next, trail)
}

// link is the address of this page, for coming back to it after a silent
// re-authorization. A trail too long to remember in the cookie is dropped:
// the page itself is kept, only its way back is lost.
func (p paging) link() string {
	if p.token == "" {
		return "/home"
	}
	if link := pageLink(p.token, p.trail); len(link) <= maxReturnLen {
		return link
	}
	return pageLink(p.token, nil)
}

func (p paging) newerLink() string {
	if p.token == "" {
		return ""
	}
	if len(p.trail) == 0 {
		return "/home"
	}
	last := len(p.trail) - 1
	return pageLink(p.trail[last], p.trail[:last])
}

func pageLink(token string, trail []string) string {
	q := url.Values{"page": {token}}
	if len(trail) > 0 {
		q.Set("trail", strings.Join(trail, "."))
	}
	return "/home?" + q.Encode()
}

// gmailFor returns a Gmail client that calls as tok, refreshing it through
// golang.org/x/oauth2 when it is due, and the source that records the
// refreshed token so the caller can store it. A token without a refresh
// token is used as it is: oauth2 would answer its expiry with "token expired
// and refresh token is not set", which looks like any other failure, so
// callers renew such a token before it is due instead.
func (s *Server) gmailFor(ctx context.Context, tok *oauth2.Token, account string) (*gmail.Client, *recordingSource) {
	inner := oauth2.StaticTokenSource(tok)
	if tok.RefreshToken != "" {
		inner = s.oauth.TokenSource(s.oauthContext(ctx), tok)
	}
	source := &recordingSource{source: inner}
	authed := &http.Client{Transport: &oauth2.Transport{Source: source, Base: s.gmailTransport}}
	return s.gmail.Client(authed, account), source
}

// recordingSource remembers the last token it handed out, so the handler
// can tell whether golang.org/x/oauth2 refreshed it during the request.
type recordingSource struct {
	source oauth2.TokenSource
	mu     sync.Mutex
	last   *oauth2.Token
}

func (r *recordingSource) Token() (*oauth2.Token, error) {
	tok, err := r.source.Token()
	if err == nil {
		r.mu.Lock()
		r.last = tok
		r.mu.Unlock()
	}
	return tok, err
}

func (r *recordingSource) latest() *oauth2.Token {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}
