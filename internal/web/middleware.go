package web

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
)

// contentSecurityPolicy allows only the app's own stylesheet and images: no
// script at all, no framing, forms only to the app itself.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// hsts keeps browsers on https for a year once they have seen the app there.
// It has no includeSubDomains: the app does not speak for its parent's
// other hosts.
const hsts = "max-age=31536000"

// securityHeaders sets the headers every response carries; with https,
// also Strict-Transport-Security.
func securityHeaders(https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if https {
			h.Set("Strict-Transport-Security", hsts)
		}
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		// no-referrer: the callback URL holds a code and state, and the
		// inbox links to Gmail; neither should travel in a Referer.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// noStore keeps pages with personal data or one-time values out of every
// cache, the browser's back-forward cache included.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// maxFormBytes bounds the body of the app's forms: the language switch
// sends two short fields, sign-out none.
const maxFormBytes = 4 << 10

// readForm parses a POST's url-encoded form before next runs, reading at
// most maxFormBytes of its body: a larger body gets 413, a body of any
// other type 415, so that no request, signed in or not, makes the app hold
// more than that. net/http alone would read 10 MB of a url-encoded form,
// and 32 MB of a multipart one.
func (s *Server) readForm(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 {
			mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if mediaType != "application/x-www-form-urlencoded" {
				s.renderProblem(w, r, problemFormType)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
				s.renderProblem(w, r, problemTooLarge)
				return
			}
			s.renderProblem(w, r, problemBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote and the bytes it
// sent, for the access log, and counts the request in the metrics as the
// status goes out: before the body, so that whoever has read the response
// finds it counted.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	bytes   int
	counted func(status int)
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
		r.counted(status)
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests writes one access-log line per request, through the app's
// logger, and counts the request in the metrics. It logs the route
// pattern and the path, never the query: the callback's query holds the
// authorization code and state.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rec := &statusRecorder{ResponseWriter: w, counted: func(status int) {
			s.metrics.Request(r.Pattern, status, s.now().Sub(start))
		}}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.WriteHeader(http.StatusOK)
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.bytes),
			slog.Duration("duration", s.now().Sub(start)),
		)
	})
}

// recoverPanics turns a panic into a logged error and a clean error page, so
// a bug never shows a person a stack trace or a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.renderProblem(w, r, problemInternal)
		}()
		next.ServeHTTP(w, r)
	})
}
