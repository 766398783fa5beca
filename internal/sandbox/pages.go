package sandbox

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gmailoauth/internal/encword"
	"gmailoauth/internal/i18n"
	"gmailoauth/internal/sandbox/mailstore"
	"gmailoauth/internal/sandbox/oauth"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages holds one parsed template set per page, each combining layout.html
// (and accounts.html, the account chooser of the sign-in pages) with the
// page's own "content" block.
var pages = parsePages("consent.html", "error.html", "index.html", "message.html", "signin.html")

func parsePages(names ...string) map[string]*template.Template {
	if err := catalogue.Check(); err != nil {
		panic("sandbox: " + err.Error())
	}
	funcs := catalogue.Funcs()
	funcs["wrappable"] = wrappable
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/accounts.html"))
	parsed := make(map[string]*template.Template, len(names))
	for _, name := range names {
		parsed[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFiles, "templates/"+name))
	}
	return parsed
}

// wrappable is text, escaped, with a line-break opportunity before each dot
// and after each slash, so that a client ID, scope or URL wraps on a phone
// between its parts rather than in the middle of a word.
func wrappable(text string) template.HTML {
	var b strings.Builder
	for _, r := range text {
		if r == '.' {
			b.WriteString("<wbr>")
		}
		b.WriteString(template.HTMLEscapeString(string(r)))
		if r == '/' {
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}

// serveStatic serves an embedded file. The files never change while the
// process runs, so browsers may cache them for a day.
func serveStatic(name, contentType string) http.HandlerFunc {
	content, err := fs.ReadFile(staticFiles, name)
	if err != nil {
		panic(fmt.Sprintf("sandbox: embedded %s is missing: %v", name, err))
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(content))
	}
}

// render executes a page into memory first so a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var body bytes.Buffer
	if err := pages[name].ExecuteTemplate(&body, "layout", data); err != nil {
		s.log.Error("sandbox: render page", "page", name, "error", err)
		http.Error(w, "sandbox: internal error rendering "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is already sent; a failed write means the client went away.
	_, _ = w.Write(body.Bytes())
}

// errorPage is what the error template shows, modelled on Google's
// "Access blocked" pages.
type errorPage struct {
	Lang    i18n.Lang
	Title   string
	Status  int
	Code    string
	Message string
	Detail  string
}

// signInPages draws the pages of sign-in for the oauth package, with the rest
// of the sandbox's pages.
type signInPages struct{ s *Server }

// Error shows Google's error page.
func (p signInPages) Error(w http.ResponseWriter, status int, page oauth.ErrorPage) {
	p.s.renderError(w, status, errorPage{Code: page.Code, Message: page.Message, Detail: page.Detail})
}

// NotFound is the page for a path nothing serves.
func (p signInPages) NotFound(w http.ResponseWriter, r *http.Request) {
	p.s.serveNotFoundPage(w, r)
}

type signInPage struct {
	Lang     i18n.Lang
	Title    string
	Accounts []accountChoice
	Continue string
}

// SignIn shows the account chooser of oauth.SignInPath, in the browser's
// language.
func (p signInPages) SignIn(w http.ResponseWriter, r *http.Request, next string) {
	lang := pageLanguage(r)
	title, _ := catalogue.Text(lang, "consent.title")
	p.s.render(w, http.StatusOK, "signin.html", signInPage{Lang: lang, Title: title, Accounts: p.s.accountChoices(""), Continue: next})
}

func (s *Server) renderError(w http.ResponseWriter, status int, page errorPage) {
	page.Status = status
	page.Lang = i18n.English
	if page.Title == "" {
		page.Title = "Error " + strconv.Itoa(status) + ": " + page.Code
	}
	s.log.Info("sandbox: error page", "status", status, "error", page.Code, "message", page.Message)
	s.render(w, status, "error.html", page)
}

func (s *Server) serveNotFoundPage(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, http.StatusNotFound, errorPage{
		Code:    "not_found",
		Message: "The requested URL " + r.URL.Path + " was not found on this sandbox.",
	})
}

// accountChoice is one account on the consent page and the index page.
type accountChoice struct {
	Address  string
	Name     string
	Initial  string
	Tone     int // avatar colour class (0–5), stable per account
	Selected bool
	Messages int
	Unread   int
}

type scopeChoice struct {
	Value       string
	Description string
}

type consentPage struct {
	Lang        i18n.Lang
	Title       string
	ClientID    string
	ConsentID   string
	RedirectURI string
	Offline     bool
	// Chooser is the account chooser alone: the scopes were granted before,
	// so Google does not ask for them again.
	Chooser  bool
	Accounts []accountChoice
	Scopes   []scopeChoice
}

// Consent shows the page for a pending request in the browser's language,
// with the account it names preselected.
func (p signInPages) Consent(w http.ResponseWriter, r *http.Request, consent oauth.Consent) {
	lang := pageLanguage(r)
	title, _ := catalogue.Text(lang, "consent.title")
	page := consentPage{
		Lang:        lang,
		Title:       title,
		ClientID:    p.s.clientID,
		ConsentID:   consent.ID,
		RedirectURI: consent.RedirectURI,
		Offline:     consent.Offline,
		Chooser:     consent.Chooser,
		Accounts:    p.s.accountChoices(consent.Selected),
	}
	for _, scope := range consent.Scopes {
		description, _ := catalogue.Text(lang, "scope."+scope)
		page.Scopes = append(page.Scopes, scopeChoice{Value: scope, Description: description})
	}
	p.s.render(w, http.StatusOK, "consent.html", page)
}

// accountChoices lists the seeded accounts, selecting the one named by
// loginHint or else the default.
func (s *Server) accountChoices(loginHint string) []accountChoice {
	selected := 0
	for i, address := range s.store.Accounts() {
		if strings.EqualFold(address, strings.TrimSpace(loginHint)) {
			selected = i
		}
	}
	accounts := s.store.Accounts()
	choices := make([]accountChoice, len(accounts))
	for i, address := range accounts {
		box, _ := s.store.Seeded(address)
		box.Mu.RLock()
		messages := len(box.Messages)
		box.Mu.RUnlock()
		initial, tone := oauth.Avatar(address, box.Name)
		choices[i] = accountChoice{
			Address:  address,
			Name:     box.Name,
			Initial:  initial,
			Tone:     tone,
			Selected: i == selected,
			Messages: messages,
			Unread:   s.UnreadCount(address),
		}
	}
	return choices
}

type indexPage struct {
	Lang         i18n.Lang
	Title        string // empty: the layout's title names this page
	ClientID     string
	RedirectURIs []string
	Accounts     []accountChoice
	Paths        []string
}

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "index.html", indexPage{
		Lang:         i18n.English,
		ClientID:     s.clientID,
		RedirectURIs: s.redirectURIs,
		Accounts:     s.accountChoices(""),
		Paths:        s.paths(),
	})
}

// paths lists the endpoints the sandbox serves, for its index page.
func (s *Server) paths() []string {
	paths := []string{
		"GET " + AuthPath, "POST " + TokenPath, "POST " + RevokePath, "GET " + UserinfoPath, "GET " + TokeninfoPath,
		"GET " + DiscoveryPath, "GET " + CertsPath, "GET " + GmailDiscoveryPath,
	}
	paths = append(paths, s.api.Paths()...)
	return append(paths, "POST /batch", "POST "+GmailBatchPath)
}

// labelNames are the names Gmail shows for label IDs, in lang.
func labelNames(lang i18n.Lang, ids []string) []string {
	names := make([]string, len(ids))
	for i, id := range ids {
		name, err := catalogue.Text(lang, "label."+id)
		if err != nil {
			name = id // not a system label: the seeded mailboxes have none
		}
		names[i] = name
	}
	return names
}

type messagePage struct {
	Lang    i18n.Lang
	Title   string
	Account accountChoice
	Subject string
	From    string
	To      string
	Date    string
	Labels  []string
	Text    string
}

// serveMessagePage is the read-only "open in Gmail" view of one message.
// {account} is an address or, as in Gmail's own URLs, an index into the
// accounts the browser is signed in to. As Gmail, it shows mail only to a
// browser signed in to the account, and sends any other to sign in.
func (s *Server) serveMessagePage(w http.ResponseWriter, r *http.Request) {
	account, signedIn := s.oauth.SignedInAccount(r, r.PathValue("account"))
	if !signedIn {
		oauth.SendToSignIn(w, r)
		return
	}
	box, ok := s.store.Seeded(account)
	var m *mailstore.Message
	var labels []string
	if ok {
		box.Mu.RLock()
		m, ok = box.ByID[r.PathValue("id")]
		if ok {
			labels = slices.Clone(m.Labels) // they change; the rest of m does not
		}
		box.Mu.RUnlock()
	}
	if !ok {
		s.renderError(w, http.StatusNotFound, errorPage{
			Code:    "not_found",
			Message: "There is no such message in this sandbox mailbox.",
			Detail:  "Account " + account + ", message " + r.PathValue("id") + ".",
		})
		return
	}
	lang := pageLanguage(r)
	subject, hasSubject := m.HeaderValue("Subject")
	if !hasSubject || subject == "" {
		subject, _ = catalogue.Text(lang, "message.noSubject")
	}
	subject = strings.ToValidUTF8(encword.Decode(subject), "\uFFFD")
	from, _ := m.HeaderValue("From")
	from = strings.ToValidUTF8(encword.Decode(from), "\uFFFD")
	to, _ := m.HeaderValue("To")
	date := m.InternalDate.Format("Mon, 2 Jan 2006 15:04 MST")
	if lang == i18n.Japanese {
		date = m.InternalDate.Format("2006年1月2日 15:04 MST")
	}
	page := messagePage{
		Lang:    lang,
		Title:   subject,
		Subject: subject,
		From:    from,
		To:      to,
		Date:    date,
		Labels:  labelNames(lang, labels),
		Text:    m.Text,
	}
	for _, choice := range s.accountChoices(account) {
		if choice.Selected {
			page.Account = choice
		}
	}
	s.render(w, http.StatusOK, "message.html", page)
}
