package oauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// SignInPath is the sandbox's sign-in page, its stand-in for Google's
// ServiceLogin: Gmail sends a browser that is not signed in to the account
// it asks for there, with the page to come back to in continue.
const SignInPath = "/ServiceLogin"

// SignedInAccount is the account that {account} in a Gmail URL names for
// the browser of r, by its sandbox Google session: an address it is signed
// in to, or, as Gmail's /mail/u/0/, an index into them. It is false for
// any other.
func (p *Provider) SignedInAccount(r *http.Request, name string) (string, bool) {
	session := p.googleSession(r)
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

// SendToSignIn redirects the browser to the sign-in page, to come back to
// this request's page once signed in, as Gmail does.
func SendToSignIn(w http.ResponseWriter, r *http.Request) {
	query := url.Values{"service": {"mail"}, "continue": {r.URL.RequestURI()}}
	http.Redirect(w, r, SignInPath+"?"+query.Encode(), http.StatusFound)
}

// localPath reports whether raw is a path on the sandbox: an absolute
// path that no browser reads as another host (//host, /\host). Only such a
// continue is followed, so the sign-in page redirects nowhere else.
func localPath(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(raw, "/") &&
		!strings.HasPrefix(raw, "//") && !strings.HasPrefix(raw, "/\\")
}

// ServeSignIn is GET SignInPath: the account chooser, in the browser's
// language, that signs the browser in and goes on to continue.
func (p *Provider) ServeSignIn(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("continue")
	if !localPath(next) {
		p.pages.Error(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Message: fmt.Sprintf("continue %q is not a page of this sandbox.", next)})
		return
	}
	p.pages.SignIn(w, r, next)
}

// ServeSignInDecision is POST SignInPath, the chooser's form (account,
// continue): it adds the account to the browser's sandbox Google session
// and sends the browser on to continue. There is no password: anyone who
// reaches the sandbox may sign in as its made-up accounts, which is why
// it warns when it listens beyond loopback.
func (p *Provider) ServeSignInDecision(w http.ResponseWriter, r *http.Request) {
	var crossOrigin http.CrossOriginProtection
	if err := crossOrigin.Check(r); err != nil {
		p.pages.Error(w, http.StatusForbidden, ErrorPage{Code: "cross_origin_request", Message: "The sign-in form was submitted from another site.", Detail: err.Error()})
		return
	}
	form, err := readForm(w, r)
	if err != nil {
		p.pages.Error(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Message: "The sign-in form could not be read.", Detail: err.Error()})
		return
	}
	account, seeded := p.seededAccount(form.Get("account"))
	next := form.Get("continue")
	if len(form["account"]) != 1 || !seeded || len(form["continue"]) != 1 || !localPath(next) {
		p.pages.Error(w, http.StatusBadRequest, ErrorPage{Code: "invalid_request", Message: "The sign-in form needs one account of this sandbox and one continue, a page of this sandbox."})
		return
	}
	p.signInToGoogle(w, r, account)
	p.log.Info("sandbox: signed in", "account", account)
	http.Redirect(w, r, next, http.StatusSeeOther)
}
