package web

import (
	"io"
	"net/http"
	"slices"
	"strings"
)

// indexData is the template data of the start page.
type indexData struct {
	layoutData
	Notice  string // a one-time notice
	Refresh string // an inbox page to move on to at once (continueTo), or ""
}

// handleIndex serves GET /: the start page with the "Connect to Gmail"
// button, or, when signed in, the way to the inbox and out again. Most
// visitors are signed out, and their page is the same for all: it is
// rendered once, at start.
func (s *Server) handleIndex() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, rewrite := s.sessions.load(r)
		if data.Token == nil && data.Notice == "" && !rewrite {
			writePage(w, r, http.StatusOK, s.signedOutIndex[language(r)])
			return
		}
		page := s.startPage(r, data)
		if data.Token != nil && !s.sessions.fromOwnPages(r) {
			// Its Open unread mail link then works, whatever site sent
			// the browser here.
			s.sessions.markOwnPages(w)
		}
		if data.Notice != "" || rewrite {
			// The notice is shown once.
			data.Notice = ""
			if !s.saveSession(w, r, data) {
				return
			}
		}
		s.render(w, r, http.StatusOK, s.templates.index, page)
	})
}

// startPage is the start page's data for data's session, with its notice.
func (s *Server) startPage(r *http.Request, data sessionData) indexData {
	page := indexData{layoutData: s.layout(r, "", "/", data)}
	if data.Notice != "" {
		page.Notice = noticeText(page.Lang, data.Notice)
	}
	return page
}

// continueTo ends a sign-in or renewal that came back from Google: on to
// destination, an inbox page, with the site cookie set (fromOwnPages).
// A browser counts Google's redirect, and any redirect after it, as a
// request another site started, and would not send the site cookie to the
// inbox. So a request that says it came from another site
// (Sec-Fetch-Site) gets the signed-in start page instead, which moves on
// to destination at once by a refresh of its own, which the browser counts
// as the app's, and offers the link should it not. A browser that does not
// say where a request came from gets the redirect, and lands on the start
// page when it keeps the site cookie back: one click more, never mail.
func (s *Server) continueTo(w http.ResponseWriter, r *http.Request, data sessionData, destination string) {
	s.sessions.markOwnPages(w)
	if r.Header.Get("Sec-Fetch-Site") != "cross-site" {
		http.Redirect(w, r, destination, http.StatusSeeOther)
		return
	}
	page := s.startPage(r, data)
	page.Refresh = destination
	s.render(w, r, http.StatusOK, s.templates.index, page)
}

// handleStatic serves GET /static/…: the embedded stylesheet and images,
// forever under their content-hashed names, which pages link, and for a
// day under their plain names. Anything else, a directory included (no
// listings), gets the app's own not-found page.
func (s *Server) handleStatic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if file, ok := s.assets.byHashedName[name]; ok {
			file.serve(w, r, cacheForever)
			return
		}
		if file, ok := s.assets.byName[name]; ok {
			file.serve(w, r, cacheADay)
			return
		}
		s.renderProblem(w, r, problemNotFound)
	})
}

// handleFavicon serves GET /favicon.ico, which browsers ask for on their own;
// a missing one is a console error on every page.
func (s *Server) handleFavicon() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file, ok := s.assets.byName["favicon.svg"]
		if !ok {
			s.renderProblem(w, r, problemNotFound)
			return
		}
		file.serve(w, r, cacheADay)
	})
}

// handleHealth serves GET /healthz: the process is up and serving.
func (s *Server) handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "ok\n")
	})
}

// handleReady serves GET /readyz: 200 while the server takes new requests,
// 503 once it is draining for shutdown.
func (s *Server) handleReady() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if s.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "draining\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
}

// handleNotFound answers every request no route matched: 405 with an Allow
// header when the path exists for another method, else 404, both as pages
// in the shared layout.
func (s *Server) handleNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			probe := r.Clone(r.Context())
			probe.Method = method
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allowed = append(allowed, method)
			}
		}
		if len(allowed) > 0 {
			if slices.Contains(allowed, http.MethodGet) {
				allowed = append(allowed, http.MethodHead)
			}
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			s.renderProblem(w, r, problemMethod)
			return
		}
		s.renderProblem(w, r, problemNotFound)
	})
}

// handleCrossOrigin answers a POST that CrossOriginProtection refused.
func (s *Server) handleCrossOrigin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "path", r.URL.Path)
		s.renderProblem(w, r, problemCrossOrigin)
	})
}
