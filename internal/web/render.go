package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"gmailoauth/internal/i18n"
)

// templates holds every page's template, parsed once at start: the shared
// layout plus the page.
type templates struct {
	index, inbox, problem *template.Template
}

// parsePages parses the templates; their {{apart}} writes boundary (see
// compress.go).
func parseTemplates(fsys fs.FS, files *assets, boundary []byte) (*templates, error) {
	funcs := template.FuncMap{
		"asset": files.url,
		"apart": func() template.HTML { return template.HTML(boundary) },
	}
	parse := func(page string) (*template.Template, error) {
		t, err := template.New("layout.html").Funcs(catalogue.Funcs()).Funcs(funcs).ParseFS(fsys, "layout.html", page)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", page, err)
		}
		return t, nil
	}
	var p templates
	var err error
	if p.index, err = parse("index.html"); err != nil {
		return nil, err
	}
	if p.inbox, err = parse("inbox.html"); err != nil {
		return nil, err
	}
	if p.problem, err = parse("problem.html"); err != nil {
		return nil, err
	}
	return &p, nil
}

// layoutData is what the shared layout shows on every page.
type layoutData struct {
	Lang     i18n.Lang
	TitleKey string // the page's title in the catalogue; "" for the app's name alone
	// Here is the page the language switch returns to: the inbox page
	// shown, built again from its validated paging values (paging.link),
	// or else the start page. It is never copied from the request, so
	// that a page shows nothing of its URL but those values, and the
	// templates compress them apart from the page's secrets (compress.go).
	Here       string
	SandboxURL string // non-empty: the sandbox banner
	SignedIn   bool   // the header then offers Sign out
	Account    string // signed-in address, for the header; "" when Gmail did not say
}

func (s *Server) layout(r *http.Request, titleKey, here string, data sessionData) layoutData {
	l := layoutData{Lang: language(r), TitleKey: titleKey, Here: here, SandboxURL: s.sandboxURL}
	if data.Token != nil {
		l.SignedIn, l.Account = true, data.Account
	}
	return l
}

// render writes a page. It executes the template into a buffer first, so a
// template error becomes a clean error page instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, t *template.Template, data any) {
	p, err := s.execute(t, data, acceptsGzip(r))
	if err != nil {
		s.renderFailed(w, r, t, err)
		return
	}
	writePage(w, r, status, p)
}

// execute renders t with data into a page, gzipped too when asked for.
func (s *Server) execute(t *template.Template, data any, gzipped bool) (page, error) {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := t.Execute(buf, data); err != nil {
		return page{}, err
	}
	return s.finish(buf.Bytes(), gzipped), nil
}

// renderFailed logs that template t failed and shows the error page
// instead, or, when t is the error page itself, says so in plain text.
func (s *Server) renderFailed(w http.ResponseWriter, r *http.Request, t *template.Template, err error) {
	s.log.Error("render", "path", r.URL.Path, "template", t.Name(), "err", err)
	if t == s.templates.problem {
		text, _ := catalogue.Text(language(r), "problem.internal.detail")
		http.Error(w, text, http.StatusInternalServerError)
		return
	}
	s.renderProblem(w, r, problemInternal)
}

// writePage writes p, gzipped when the browser takes it and it was.
func writePage(w http.ResponseWriter, r *http.Request, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Vary", "Accept-Encoding")
	body := p.plain
	if p.gzipped != nil && acceptsGzip(r) {
		body = p.gzipped
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip,
// that is, names it without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, value := range r.Header["Accept-Encoding"] {
		for part := range strings.SplitSeq(value, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, found := strings.CutPrefix(strings.TrimSpace(params), "q=")
			if !found {
				return true
			}
			weight, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
			return err == nil && weight > 0
		}
	}
	return false
}

// buffers recycles render buffers: a page is tens of kilobytes, and
// growing a fresh buffer to that size on every view is most of a view's
// garbage.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps an unusually large page's buffer from staying in
// the pool.
const maxPooledBuffer = 1 << 20

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBuffer {
		return
	}
	buf.Reset()
	buffers.Put(buf)
}

// problem is an error page: what happened, in plain words, and what the
// person can do next. Key names its heading in the catalogue, and
// Key+".detail" its explanation.
type problem struct {
	Status     int
	Key        string
	Action     action
	retryAfter time.Duration
}

// action is the next step a page offers: a link; Label is a catalogue key.
type action struct {
	Label, Href string
}

var (
	actionHome    = action{Label: "action.home", Href: "/"}
	actionConnect = action{Label: "connect", Href: "/oauth"}
	actionInbox   = action{Label: "action.retry", Href: "/home"}
	// actionGoogleAccess is Google's list of apps with access to the
	// account, where a person can remove this one.
	actionGoogleAccess = action{Label: "action.googleAccess", Href: "https://myaccount.google.com/connections"}
)

var (
	problemNotFound      = problem{Status: http.StatusNotFound, Key: "problem.notFound", Action: actionHome}
	problemMethod        = problem{Status: http.StatusMethodNotAllowed, Key: "problem.method", Action: actionHome}
	problemRevokeFailed  = problem{Status: http.StatusBadGateway, Key: "problem.revokeFailed", Action: actionGoogleAccess}
	problemCrossOrigin   = problem{Status: http.StatusForbidden, Key: "problem.crossOrigin", Action: actionHome}
	problemBadState      = problem{Status: http.StatusBadRequest, Key: "problem.badState", Action: actionConnect}
	problemBadRequest    = problem{Status: http.StatusBadRequest, Key: "problem.badRequest", Action: actionHome}
	problemTooLarge      = problem{Status: http.StatusRequestEntityTooLarge, Key: "problem.tooLarge", Action: actionHome}
	problemFormType      = problem{Status: http.StatusUnsupportedMediaType, Key: "problem.formType", Action: actionHome}
	problemStalePage     = problem{Status: http.StatusBadRequest, Key: "problem.stalePage", Action: action{Label: "action.newest", Href: "/home"}}
	problemCodeRejected  = problem{Status: http.StatusBadRequest, Key: "problem.codeRejected", Action: actionConnect}
	problemScopeMissing  = problem{Status: http.StatusForbidden, Key: "problem.scopeMissing", Action: actionConnect}
	problemForbidden     = problem{Status: http.StatusForbidden, Key: "problem.forbidden", Action: actionConnect}
	problemRateLimited   = problem{Status: http.StatusTooManyRequests, Key: "problem.rateLimited", Action: actionInbox}
	problemTooFast       = problem{Status: http.StatusTooManyRequests, Key: "problem.tooFast", Action: actionInbox}
	problemGmailDown     = problem{Status: http.StatusBadGateway, Key: "problem.gmailDown", Action: actionInbox}
	problemGoogleDown    = problem{Status: http.StatusBadGateway, Key: "problem.googleDown", Action: actionConnect}
	problemSignInRefused = problem{Status: http.StatusBadGateway, Key: "problem.signInRefused", Action: actionConnect}
	// problemRenewalRefused: Google refused a refresh for a reason other
	// than a grant that is gone, such as the app's client being refused.
	problemRenewalRefused = problem{Status: http.StatusBadGateway, Key: "problem.renewalRefused", Action: actionConnect}
	problemInternal       = problem{Status: http.StatusInternalServerError, Key: "problem.internal", Action: actionHome}
)

// problemData is the template data of the error page.
type problemData struct {
	layoutData
	problem
}

// renderProblem shows an error page in the shared layout.
func (s *Server) renderProblem(w http.ResponseWriter, r *http.Request, p problem) {
	// The header shows who is signed in, as on every other page, so the
	// person can still sign out from an error.
	session, _ := s.sessions.load(r)
	s.showProblem(w, r, p, "/", session)
}

// showProblem renders p with session in the header, for a handler that
// has just changed the session, as sign-out and the inbox have; here is
// the page the language switch returns to (layoutData.Here).
func (s *Server) showProblem(w http.ResponseWriter, r *http.Request, p problem, here string, session sessionData) {
	// An error page describes one moment, and may name who is signed in;
	// no cache may keep it, whichever route it answers.
	w.Header().Set("Cache-Control", "no-store")
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((p.retryAfter+time.Second-1)/time.Second)))
	}
	data := problemData{layoutData: s.layout(r, p.Key, here, session), problem: p}
	s.render(w, r, p.Status, s.templates.problem, data)
}
