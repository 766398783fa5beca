package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// pages holds every template, parsed once at start: the shared layout plus
// one page each, and the inbox's row.
type pages struct {
	index, inbox, problem *template.Template
	row                   *template.Template
}

func parsePages(fsys fs.FS) (*pages, error) {
	parse := func(page string) (*template.Template, error) {
		t, err := template.New("layout.html").ParseFS(fsys, "layout.html", page)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", page, err)
		}
		return t, nil
	}
	var p pages
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
	if p.row = p.inbox.Lookup("row"); p.row == nil {
		return nil, fmt.Errorf("parse inbox.html: no \"row\" template")
	}
	return &p, nil
}

// layoutData is what the shared layout shows on every page.
type layoutData struct {
	Title      string
	SandboxURL string // non-empty: the sandbox banner
	Account    string // signed-in address, for the header
}

func (s *Server) layout(title string, data sessionData) layoutData {
	l := layoutData{Title: title, SandboxURL: s.sandboxURL}
	if data.Token != nil {
		l.Account = data.Account
	}
	return l
}

// render writes a page. It executes the template into a buffer first, so a
// template error becomes a clean error page instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, t *template.Template, data any) {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := t.Execute(buf, data); err != nil {
		s.log.Error("render", "path", r.URL.Path, "template", t.Name(), "err", err)
		if t == s.pages.problem {
			// The error page itself failed: say so in plain text.
			http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
			return
		}
		s.renderProblem(w, r, problemInternal)
		return
	}
	writePage(w, status, buf.Bytes())
}

// htmlType is the Content-Type of every page. Header values are shared
// between responses as they are: net/http only reads them, and a handler
// changing one replaces the slice.
var htmlType = []string{"text/html; charset=utf-8"}

// writePage writes a rendered page.
func writePage(w http.ResponseWriter, status int, page []byte) {
	h := w.Header()
	h["Content-Type"] = htmlType
	h["Content-Length"] = []string{strconv.Itoa(len(page))}
	w.WriteHeader(status)
	w.Write(page)
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
// person can do next.
type problem struct {
	Status     int
	Heading    string
	Detail     string
	Action     action
	retryAfter time.Duration
}

// action is the next step a page offers: a link, or a POST button.
type action struct {
	Label, Href string
	Post        bool
}

var (
	actionHome    = action{Label: "Back to start", Href: "/"}
	actionConnect = action{Label: "Connect to Gmail", Href: "/oauth"}
	actionInbox   = action{Label: "Try again", Href: "/home"}
	// actionGoogleAccess is Google's list of apps with access to the
	// account, where a person can remove this one.
	actionGoogleAccess = action{Label: "Open Google's third-party access page", Href: "https://myaccount.google.com/connections"}
)

var (
	problemNotFound = problem{Status: http.StatusNotFound,
		Heading: "Page not found",
		Detail:  "There is nothing at this address.",
		Action:  actionHome}
	problemMethod = problem{Status: http.StatusMethodNotAllowed,
		Heading: "That doesn't work here",
		Detail:  "This address can't be used that way. Use the buttons on the pages instead.",
		Action:  actionHome}
	problemRevokeFailed = problem{Status: http.StatusBadGateway,
		Heading: "Signed out here, but Google may still allow access",
		Detail:  "You are signed out of this app, but Google could not be told to end its access to your Gmail. To end it yourself, remove this app on Google's third-party access page.",
		Action:  actionGoogleAccess}
	problemCrossOrigin = problem{Status: http.StatusForbidden,
		Heading: "Request refused",
		Detail:  "The request came from another site, so it was refused to protect your account.",
		Action:  actionHome}
	problemBadState = problem{Status: http.StatusBadRequest,
		Heading: "This sign-in link is not valid",
		Detail:  "It was already used, has expired, or was not started in this browser. Nothing was changed. Start again to connect your Gmail.",
		Action:  actionConnect}
	problemBadRequest = problem{Status: http.StatusBadRequest,
		Heading: "Bad request",
		Detail:  "The address has values this app doesn't accept.",
		Action:  actionHome}
	problemStalePage = problem{Status: http.StatusBadRequest,
		Heading: "That page of your inbox is out of date",
		Detail:  "Gmail no longer recognises the link to this page. Start again from your newest unread messages.",
		Action:  action{Label: "Newest unread", Href: "/home"}}
	problemCodeRejected = problem{Status: http.StatusBadRequest,
		Heading: "Google did not accept the sign-in",
		Detail:  "The sign-in code was refused: it may have expired or been used already. Start again to connect your Gmail.",
		Action:  actionConnect}
	problemDeclined = problem{Status: http.StatusOK,
		Heading: "You declined access",
		Detail:  "You chose not to let this app read your Gmail, so nothing was shared. You can connect whenever you like.",
		Action:  actionConnect}
	problemScopeMissing = problem{Status: http.StatusForbidden,
		Heading: "Gmail access was not granted",
		Detail:  "You signed in but left the Gmail permission unticked, so this app can't read your unread mail. Connect again and keep the Gmail box ticked.",
		Action:  actionConnect}
	problemForbidden = problem{Status: http.StatusForbidden,
		Heading: "Permission missing",
		Detail:  "Gmail says this app doesn't have permission to read your mail. Connect again and allow Gmail access.",
		Action:  actionConnect}
	problemRateLimited = problem{Status: http.StatusTooManyRequests,
		Heading: "Gmail asks us to slow down",
		Detail:  "Too many requests were made in a short time. Wait a moment, then try again.",
		Action:  actionInbox}
	problemGmailDown = problem{Status: http.StatusBadGateway,
		Heading: "Gmail isn't answering",
		Detail:  "Gmail did not give a usable answer in time. This is usually brief: try again in a moment.",
		Action:  actionInbox}
	problemGoogleDown = problem{Status: http.StatusBadGateway,
		Heading: "Google isn't answering",
		Detail:  "The sign-in could not be finished because Google did not answer properly. Try again in a moment.",
		Action:  actionConnect}
	problemSignInRefused = problem{Status: http.StatusBadGateway,
		Heading: "Google could not sign you in",
		Detail:  "Google refused the sign-in request. Try again; if it keeps failing, the app's Google settings need attention.",
		Action:  actionConnect}
	problemInternal = problem{Status: http.StatusInternalServerError,
		Heading: "Something went wrong on our side",
		Detail:  "The page could not be shown. Please try again.",
		Action:  actionHome}
)

// problemData is the template data of the error page.
type problemData struct {
	layoutData
	problem
}

// renderProblem shows an error page in the shared layout.
func (s *Server) renderProblem(w http.ResponseWriter, r *http.Request, p problem) {
	// An error page describes one moment, and may name who is signed in;
	// no cache may keep it, whichever route it answers.
	w.Header().Set("Cache-Control", "no-store")
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((p.retryAfter+time.Second-1)/time.Second)))
	}
	// The header shows who is signed in, as on every other page, so the
	// person can still sign out from an error.
	session, _ := s.sessions.load(r)
	s.showProblem(w, r, p, session)
}

// showProblem renders p with session in the header, for a handler that
// has just changed the session, as sign-out has.
func (s *Server) showProblem(w http.ResponseWriter, r *http.Request, p problem, session sessionData) {
	data := problemData{layoutData: s.layout(p.Heading, session), problem: p}
	s.render(w, r, p.Status, s.pages.problem, data)
}
