package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"gmailoauth/internal/i18n"
)

// langCookie remembers the language a person chose with the switch.
const langCookie = "lang"

// language is the language of the page r asks for: the one chosen with the
// switch, else the best match for the browser's Accept-Language.
func language(r *http.Request) i18n.Lang {
	if c, err := r.Cookie(langCookie); err == nil {
		if lang, ok := i18n.Parse(c.Value); ok {
			return lang
		}
	}
	return i18n.Negotiate(r.Header.Get("Accept-Language"))
}

// handleLanguage serves POST /language, the language switch on every page:
// it remembers lang in a cookie for a year and goes back to next, a path of
// this app. It is a form, so it works without JavaScript, and a POST, so
// CrossOriginProtection keeps other sites from switching it.
func (s *Server) handleLanguage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang, ok := i18n.Parse(r.PostFormValue("lang"))
		if !ok {
			s.renderProblem(w, r, problemBadRequest)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: langCookie, Value: string(lang), Path: "/",
			MaxAge: int(365 * 24 * time.Hour / time.Second), HttpOnly: true,
			Secure: s.https, SameSite: http.SameSiteLaxMode,
		})
		http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
	})
}

// maxNextLen bounds the page the language switch returns to.
const maxNextLen = 2048

// localPath returns next when it is a path on this app, else "/": the
// switch never sends anyone to another site.
func localPath(next string) string {
	if len(next) > maxNextLen || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// The one-time notices the start page shows after a sign-out, asked for or
// not, or a declined sign-in, as catalogue keys; the session keeps the key.
const (
	noticeExpired   = "notice.expired"
	noticeLifetime  = "notice.lifetime"
	noticeDeclined  = "notice.declined"
	noticeSignedOut = "notice.signedOut"
)

// noticeText is the text of a notice in lang. A key the catalogue does not
// know, as from a cookie older than this build, shows nothing.
func noticeText(lang i18n.Lang, key string) string {
	var args []any
	if key == noticeLifetime {
		args = append(args, int(sessionLifetime/(24*time.Hour)))
	}
	text, err := catalogue.Text(lang, key, args...)
	if err != nil {
		return ""
	}
	return text
}
