// Package web is the app a person sees: routes, handlers, the cookie session
// and the HTML templates. It signs people in with Google (authorization code
// with PKCE) and shows their unread Gmail through internal/gmail.
package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"gmailoauth/internal/gmail"
	"gmailoauth/internal/i18n"
	"gmailoauth/internal/metrics"
)

// GmailScope is the one permission the app asks for: reading mail.
const GmailScope = "https://www.googleapis.com/auth/gmail.readonly"

// Options is what the app is built from; main fills it from the config.
type Options struct {
	ClientID, ClientSecret string
	RedirectURL            string
	AuthURL, TokenURL      string
	RevokeURL              string

	// SessionKeys are hash/encryption pairs, newest first.
	SessionKeys [][]byte
	// HTTPS is set when people reach the app over https: the session
	// cookie is then Secure and every response carries HSTS.
	HTTPS bool

	Gmail *gmail.Service
	// GmailTransport carries the calls to Gmail, under the token; nil means
	// a clone of http.DefaultTransport that keeps more idle connections.
	GmailTransport http.RoundTripper
	PageTimeout    time.Duration // all Gmail work for one page view
	InboxLimit     int           // inbox views a minute per Google account; 0: no limit

	// MessageURL links a message to where a person can read it: Gmail on the
	// web, or the sandbox's own viewer.
	MessageURL func(account, id string) string

	// SandboxURL is set when the app talks to the built-in sandbox instead
	// of Google; every page then says so.
	SandboxURL string

	Templates fs.FS // holds layout.html and the pages
	Static    fs.FS // served under /static/

	// HTTPClient carries the calls to Google's token and revocation
	// endpoints; it must have a timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger // the app's lines, the access log among them
	Metrics    *metrics.Metrics
	Now        func() time.Time
	Location   *time.Location // time zone for dates on the page
}

// Server is the app's HTTP handler.
type Server struct {
	oauth          *oauth2.Config
	revokeURL      string
	sessions       *sessionStore
	gmail          *gmail.Service
	gmailTransport http.RoundTripper
	pageTimeout    time.Duration
	https          bool
	messageURL     func(account, id string) string
	sandboxURL     string
	pages          *pages
	httpClient     *http.Client
	log            *slog.Logger
	metrics        *metrics.Metrics
	views          *viewLimiter // per person, of the views that call Gmail
	now            func() time.Time
	location       *time.Location
	handler        http.Handler
	draining       atomic.Bool // set at shutdown: /readyz says 503
	assets         *assets
	// The start page as everyone signed out sees it, in each language.
	signedOutIndex map[i18n.Lang]page
	boundary       []byte // between the parts of a page gzipped apart
}

// New checks opts, parses the templates and builds the routes. A broken
// template fails here, at start, not in front of a person.
func New(opts Options) (*Server, error) {
	if opts.ClientID == "" || opts.RedirectURL == "" || opts.AuthURL == "" || opts.TokenURL == "" {
		return nil, errors.New("web: client ID, redirect, authorization and token URLs are required")
	}
	if opts.Gmail == nil || opts.Templates == nil || opts.Static == nil {
		return nil, errors.New("web: Gmail service, templates and static files are required")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	sessions, err := newSessionStore(opts.SessionKeys, opts.HTTPS, now)
	if err != nil {
		return nil, err
	}
	if err := catalogue.Check(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	files, err := loadAssets(opts.Static)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	boundary := newBoundary()
	pages, err := parsePages(opts.Templates, files, boundary)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{
		oauth: &oauth2.Config{
			ClientID:     opts.ClientID,
			ClientSecret: opts.ClientSecret,
			RedirectURL:  opts.RedirectURL,
			Scopes:       []string{GmailScope},
			// One client-authentication method, stated rather than
			// auto-detected: auto-detection first sends a request that fails.
			// Google documents client_secret_post.
			Endpoint: oauth2.Endpoint{AuthURL: opts.AuthURL, TokenURL: opts.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		revokeURL:      opts.RevokeURL,
		sessions:       sessions,
		gmail:          opts.Gmail,
		gmailTransport: opts.GmailTransport,
		pageTimeout:    orDuration(opts.PageTimeout, 8*time.Second),
		https:          opts.HTTPS,
		messageURL:     opts.MessageURL,
		sandboxURL:     opts.SandboxURL,
		pages:          pages,
		assets:         files,
		httpClient:     opts.HTTPClient,
		log:            opts.Logger,
		metrics:        opts.Metrics,
		views:          newViewLimiter(opts.InboxLimit),
		now:            now,
		location:       opts.Location,
		boundary:       boundary,
	}
	if s.gmailTransport == nil {
		s.gmailTransport = newGmailTransport()
	}
	if s.httpClient == nil {
		s.httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.location == nil {
		s.location = time.Local
	}
	if s.messageURL == nil {
		s.messageURL = func(string, string) string { return "" }
	}
	s.signedOutIndex = make(map[i18n.Lang]page, len(i18n.Langs))
	for _, lang := range i18n.Langs {
		var index bytes.Buffer
		data := indexData{layoutData: layoutData{Lang: lang, Here: "/", SandboxURL: s.sandboxURL}}
		if err := pages.index.Execute(&index, data); err != nil {
			return nil, fmt.Errorf("web: index.html in %s: %w", lang, err)
		}
		s.signedOutIndex[lang] = s.finish(index.Bytes(), true)
	}
	s.handler = s.routes()
	return s, nil
}

// maxIdleGmailConns is how many idle connections to Gmail are kept: one
// per page view in flight, for as many as a busy instance serves at once
// (256 in make bench), with room to spare. Fewer would close connections
// that the next moment's views must open again.
const maxIdleGmailConns = 1024

// newGmailTransport is the transport to Gmail: Go's default, keeping an
// idle connection for every page view in flight. Over https Google speaks
// HTTP/2, which carries concurrent calls on one connection, up to the
// stream limit Google announces, opening another only beyond it; so
// there the idle limits hardly come into play; they matter over HTTP/1.1,
// which the sandbox and any proxy without HTTP/2 speak.
func newGmailTransport() *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = maxIdleGmailConns
	transport.MaxIdleConnsPerHost = maxIdleGmailConns
	return transport
}

// Drain marks the server as shutting down: /readyz answers 503 so a load
// balancer stops sending new people here while in-flight requests finish.
func (s *Server) Drain() { s.draining.Store(true) }

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// oauthContext makes golang.org/x/oauth2 use the server's HTTP client, with
// its timeout, for token and refresh calls.
func (s *Server) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.httpClient)
}

func orDuration(d, fallback time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return fallback
}
