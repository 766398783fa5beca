package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gmailoauth/internal/i18n"
)

// signInPath is the sandbox's sign-in page, its stand-in for Google's
// ServiceLogin: Gmail sends a browser that is not signed in to the account
// it asks for there, with the page to come back to in continue.
const signInPath = "/ServiceLogin"

// signedInAccount is the account that {account} in a Gmail URL names for
// a browser signed in to session: an address among them, or, as Gmail's
// /mail/u/0/, an index into them. It is false for any other.
func signedInAccount(session []string, name string) (string, bool) {
	if index, err := strconv.Atoi(name); err == nil {
		if index < 0 || index >= len(session) {
			return "", false
		}
		return session[index], true
	}
	for _, account := range session {
		if strings.EqualFold(account, name) {
			return account, true
		}
	}
	return "", false
}

// sendToSignIn redirects the browser to the sign-in page, to come back to
// this request's page once signed in, as Gmail does.
func (s *Server) sendToSignIn(w http.ResponseWriter, r *http.Request) {
	query := url.Values{"service": {"mail"}, "continue": {r.URL.RequestURI()}}
	http.Redirect(w, r, signInPath+"?"+query.Encode(), http.StatusFound)
}

// localPath reports whether raw is a path on the sandbox: an absolute
// path that no browser reads as another host (//host, /\host). Only such a
// continue is followed, so the sign-in page redirects nowhere else.
func localPath(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(raw, "/") &&
		!strings.HasPrefix(raw, "//") && !strings.HasPrefix(raw, "/\\")
}

type signInPage struct {
	Lang     i18n.Lang
	Title    string
	Accounts []accountChoice
	Continue string
}

// serveSignIn is GET signInPath: the account chooser, in the browser's
// language, that signs the browser in and goes on to continue.
func (s *Server) serveSignIn(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("continue")
	if !localPath(next) {
		s.renderError(w, http.StatusBadRequest, errorPage{Code: "invalid_request", Message: fmt.Sprintf("continue %q is not a page of this sandbox.", next)})
		return
	}
	lang := pageLanguage(r)
	title, _ := catalogue.Text(lang, "consent.title")
	s.render(w, http.StatusOK, "signin.html", signInPage{Lang: lang, Title: title, Accounts: s.accountChoices(""), Continue: next})
}

// serveSignInDecision is POST signInPath, the chooser's form (account,
// continue): it adds the account to the browser's sandbox Google session
// and sends the browser on to continue. There is no password: anyone who
// reaches the sandbox may sign in as its made-up accounts, which is why
// it warns when it listens beyond loopback.
func (s *Server) serveSignInDecision(w http.ResponseWriter, r *http.Request) {
	var crossOrigin http.CrossOriginProtection
	if err := crossOrigin.Check(r); err != nil {
		s.renderError(w, http.StatusForbidden, errorPage{Code: "cross_origin_request", Message: "The sign-in form was submitted from another site.", Detail: err.Error()})
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		s.renderError(w, http.StatusBadRequest, errorPage{Code: "invalid_request", Message: "The sign-in form could not be read.", Detail: err.Error()})
		return
	}
	account, seeded := s.seededAccount(form.Get("account"))
	next := form.Get("continue")
	if len(form["account"]) != 1 || !seeded || len(form["continue"]) != 1 || !localPath(next) {
		s.renderError(w, http.StatusBadRequest, errorPage{Code: "invalid_request", Message: "The sign-in form needs one account of this sandbox and one continue, a page of this sandbox."})
		return
	}
	s.signInToGoogle(w, r, account)
	s.log.Info("sandbox: signed in", "account", account)
	http.Redirect(w, r, next, http.StatusSeeOther)
}
