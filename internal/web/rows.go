package web

import (
	"time"

	"gmailoauth/internal/gmail"
	"gmailoauth/internal/i18n"
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
