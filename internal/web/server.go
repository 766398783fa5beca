// Package web is the app a person sees: routes, handlers, the cookie session
// and the HTML templates. It signs people in with Google (authorization code
// with PKCE) and shows their unread Gmail through internal/gmail. New builds
// it from the configuration and its Deps, for main and the tests alike.
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

	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/i18n"
	"gmailoauth/internal/metrics"
)

// GmailScope is the one permission the app asks for: reading mail.
const GmailScope = "https://www.googleapis.com/auth/gmail.readonly"

// Deps is what the app needs besides its configuration. NewDeps gives
// production's; a test changes only what it must.
type Deps struct {
	Templates fs.FS        // holds layout.html and the pages
	Static    fs.FS        // served under /static/
	Logger    *slog.Logger // the app's lines, the access log among them
	Metrics   *metrics.Metrics
	Now       func() time.Time
	Location  *time.Location // time zone for dates on the page
	// Cache holds message metadata across the views of everyone.
	Cache *gmail.Cache
	// GmailTransport carries the calls to Gmail, under the person's token;
	// HTTPClient those to Google's token and revocation endpoints, and
	// must have a timeout.
	GmailTransport http.RoundTripper
	HTTPClient     *http.Client
	// MessageURL links a message to where a person can read it: Gmail on
	// the web, or the sandbox's own viewer.
	MessageURL func(account, id string) string
	// SandboxURL is set when the app talks to the built-in sandbox instead
	// of Google; every page then says so.
	SandboxURL string
}

// cacheBytes is the size of the metadata cache of each instance.
const cacheBytes = 32 << 20

// NewDeps returns production's dependencies around the app's files and
// logger: Gmail on the web for reading a message, the local clock and
// time zone, fresh metrics and cache.
func NewDeps(templates, static fs.FS, log *slog.Logger) Deps {
	return Deps{
		Templates:      templates,
		Static:         static,
		Logger:         log,
		Metrics:        metrics.New(),
		Now:            time.Now,
		Location:       time.Local,
		Cache:          gmail.NewCache(cacheBytes),
		GmailTransport: newGmailTransport(),
		HTTPClient:     &http.Client{Timeout: 10 * time.Second},
		MessageURL:     gmail.MessageURL,
	}
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
	templates      *templates
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
	inboxPages     *pageCache
}

// New builds the app from its configuration: the Gmail client, the
// session store, the parsed templates and the routes. A broken template
// fails here, at start, not in front of a person.
func New(cfg config.Config, deps Deps) (*Server, error) {
	// Google's or the sandbox's, as main filled them in.
	if cfg.AuthURL == "" || cfg.TokenURL == "" {
		return nil, errors.New("web: authorization and token URLs are required")
	}
	sessions, err := newSessionStore(cfg.SessionKeys, cfg.HTTPS(), deps.Now)
	if err != nil {
		return nil, err
	}
	service, err := gmail.NewService(gmail.Config{
		BaseURL:     cfg.GmailAPIURL,
		CallTimeout: cfg.CallTimeout,
		Cache:       deps.Cache,
		Logger:      deps.Logger.With("component", "gmail"),
		Metrics:     deps.Metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("GMAIL_API_URL: %w", err)
	}
	if err := catalogue.Check(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	files, err := loadAssets(deps.Static)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	boundary := newBoundary()
	parsed, err := parseTemplates(deps.Templates, files, boundary)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s := &Server{
		oauth: &oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURL:  cfg.RedirectURL,
			Scopes:       []string{GmailScope},
			// One client-authentication method, stated rather than
			// auto-detected: auto-detection first sends a request that fails.
			// Google documents client_secret_post.
			Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		},
		revokeURL:      cfg.RevokeURL,
		sessions:       sessions,
		gmail:          service,
		gmailTransport: deps.GmailTransport,
		pageTimeout:    cfg.PageTimeout,
		https:          cfg.HTTPS(),
		messageURL:     deps.MessageURL,
		sandboxURL:     deps.SandboxURL,
		templates:      parsed,
		assets:         files,
		httpClient:     deps.HTTPClient,
		log:            deps.Logger,
		metrics:        deps.Metrics,
		views:          newViewLimiter(cfg.InboxLimit),
		now:            deps.Now,
		location:       deps.Location,
		boundary:       boundary,
		inboxPages:     newPageCache(maxInboxPageBytes),
	}
	deps.Metrics.WatchCache(func() metrics.CacheStats {
		stats := deps.Cache.Stats()
		stats.Hits["page"], stats.Misses["page"] = s.inboxPages.lookups()
		return stats
	})
	s.signedOutIndex = make(map[i18n.Lang]page, len(i18n.Langs))
	for _, lang := range i18n.Langs {
		var index bytes.Buffer
		data := indexData{layoutData: layoutData{Lang: lang, Here: "/", SandboxURL: s.sandboxURL}}
		if err := parsed.index.Execute(&index, data); err != nil {
			return nil, fmt.Errorf("web: index.html in %s: %w", lang, err)
		}
		s.signedOutIndex[lang] = s.finish(index.Bytes(), true)
	}
	s.handler = s.routes()
	return s, nil
}

// NewHTTPServer sets the timeouts a server facing browsers needs; main
// serves the sandbox and the metrics with it too. An idle connection holds
// about 20 KB (8,000 held 155 MB more), so it is closed after 30 s: a
// proxy's pool closes its own sooner (docs/nginx.conf: 20 s), and a browser
// that comes back later opens another.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
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
