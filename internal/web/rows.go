package web

import (
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/i18n"
	"html/template"
	"strings"
	"time"
)

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
	html      template.HTML
}

// list returns the rows of messages in language lang, with a signature of
// what they show (empty when they are not kept), and how many of them are
// only IDs because their details failed. Each row costs dozens of escaper
// calls, and placing it in the list one more, so both are kept beside the
// messages' metadata in the cache, under account and lang: a row never
// shows for another account or in another language. The relative dates are
// worked out on every view, and what is kept serves only while it shows the
// same ones; otherwise it is rendered again and replaces what was kept.
// Failed messages are never kept: a later view may bring their details.
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
	key := string(lang) + "/list"
	if keep {
		if kept, ok := cache.Rendering(account, messages[0].ID, key); ok && kept.(cachedList).signature == signature.String() {
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
		return cachedList{html: html}, failed, nil
	}
	list := cachedList{signature: signature.String(), html: html}
	cache.SetRendering(account, messages[0].ID, key, list, int64(len(list.signature)+len(list.html)))
	return list, failed, nil
}

// cachedPage is a whole inbox page as kept beside its first message, with
// everything it shows: its data, and its list by signature.
type cachedPage struct {
	data inboxData
	list string
	page
}

// inboxPage returns the inbox page showing view with list as its List
// (view.List is left empty: list.signature stands for it in the
// comparisons): the kept one if it shows exactly the same (the same list,
// dates and all, the same estimate, links, account and language), else a
// new one, which it keeps instead. A repeat view with nothing changed is
// then written as it was, compressed as it was.
func (s *Server) inboxPage(account, firstID string, view inboxData, list cachedList) (page, error) {
	key := string(view.Lang) + "/page"
	cache := s.gmail.Cache()
	if kept, ok := cache.Rendering(account, firstID, key); ok {
		if kept := kept.(cachedPage); kept.data == view && kept.list == list.signature {
			return kept.page, nil
		}
	}
	buf := getBuffer()
	defer putBuffer(buf)
	withList := view
	withList.List = list.html
	if err := s.pages.inbox.Execute(buf, withList); err != nil {
		return page{}, err
	}
	p := s.finish(buf.Bytes(), true)
	cache.SetRendering(account, firstID, key, cachedPage{data: view, list: list.signature, page: p},
		int64(len(p.plain)+len(p.gzipped)+len(view.Here)+len(view.Older)+len(view.Newer)))
	return p, nil
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
