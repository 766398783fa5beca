package web

import (
	"net/http"
	"net/url"
	"strings"
)

// routes lists every route the app serves, in one place.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Pages carry personal data or one-time values: never cached.
	mux.Handle("GET /{$}", noStore(s.handleIndex()))
	mux.Handle("GET /oauth", noStore(s.handleOAuth()))
	// config.CallbackPath: REDIRECT_URL must name this route.
	mux.Handle("GET /callback", noStore(s.handleCallback()))
	mux.Handle("GET /home", noStore(s.handleHome()))
	mux.Handle("POST /logout", noStore(s.readForm(s.handleLogout())))
	mux.Handle("POST /language", noStore(s.readForm(s.handleLanguage())))

	mux.Handle("GET /static/", s.handleStatic())
	mux.Handle("GET /favicon.ico", s.handleFavicon())
	mux.Handle("GET /healthz", s.handleHealth())
	mux.Handle("GET /readyz", s.handleReady())

	// Everything else: the shared not-found page, and the shared
	// method-not-allowed page for a known path with the wrong method.
	mux.Handle("/", noStore(s.handleNotFound(mux)))

	// Go's CrossOriginProtection refuses cross-site POSTs (to /logout and /language), using
	// Sec-Fetch-Site or Origin, without a token in every form.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(s.handleCrossOrigin())
	// Behind a reverse proxy the Host header may not be the public name;
	// the public origin is the redirect URL's, so trust it explicitly,
	// with its host in lower case as browsers send it in Origin.
	if u, err := url.Parse(s.oauth.RedirectURL); err == nil {
		csrf.AddTrustedOrigin(u.Scheme + "://" + strings.ToLower(u.Host))
	}

	return s.logRequests(s.recoverPanics(securityHeaders(s.https, csrf.Handler(mux))))
}
