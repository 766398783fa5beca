// Package app builds the whole app from its configuration: the Gmail client
// with its metadata cache, the web handler, and the HTTP server that serves
// it. main and the test harness (internal/apptest) both build it with New,
// so tests run the wiring production runs and change only what a test must.
//
// It does not know the sandbox: whoever runs the sandbox (main, when no
// Google client is configured, and the tests) fills the configuration's
// endpoints with the sandbox's and says so in Deps.
package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/metrics"
	"gmailoauth/internal/web"
)

// CacheBytes is the size of the metadata cache every instance has.
const CacheBytes = 32 << 20

// Deps is what the configuration does not say. Templates and Static are
// required; every other zero value means the production choice.
type Deps struct {
	Templates fs.FS        // holds layout.html and the pages
	Static    fs.FS        // served under /static/
	Logger    *slog.Logger // the app's lines and the access log

	// MessageURL links a message to where a person can read it; default
	// gmail.MessageURL, Gmail on the web.
	MessageURL func(account, id string) string
	// SandboxURL is set when the configuration points at the built-in
	// sandbox instead of Google; every page then says so.
	SandboxURL string

	// What tests replace: the metadata cache (default CacheBytes), the
	// clock and time zone, and the transports to Gmail and to Google's
	// token endpoints.
	Cache          *gmail.Cache
	Now            func() time.Time
	Location       *time.Location
	GmailTransport http.RoundTripper
	HTTPClient     *http.Client
}

// App is the app as a value: configuration in, handler and server out.
type App struct {
	Web     *web.Server  // the handler
	Server  *http.Server // serves Web; the caller gives it a listener
	Metrics *metrics.Metrics
}

// New wires cfg and deps into the app. A broken template or setting fails
// here, at start.
func New(cfg config.Config, deps Deps) (*App, error) {
	if deps.Templates == nil || deps.Static == nil {
		return nil, errors.New("app: templates and static files are required")
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cache := deps.Cache
	if cache == nil {
		cache = gmail.NewCache(CacheBytes)
	}
	m := metrics.New()
	m.WatchCache(cache.Stats)
	service, err := gmail.NewService(gmail.Config{
		BaseURL:     cfg.GmailAPIURL,
		CallTimeout: cfg.CallTimeout,
		Cache:       cache,
		Logger:      log.With("component", "gmail"),
		Metrics:     m,
	})
	if err != nil {
		return nil, fmt.Errorf("GMAIL_API_URL: %w", err)
	}
	messageURL := deps.MessageURL
	if messageURL == nil {
		messageURL = gmail.MessageURL
	}
	handler, err := web.New(web.Options{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret,
		RedirectURL:    cfg.RedirectURL,
		AuthURL:        cfg.AuthURL,
		TokenURL:       cfg.TokenURL,
		RevokeURL:      cfg.RevokeURL,
		SessionKeys:    cfg.SessionKeys,
		HTTPS:          cfg.HTTPS(),
		Gmail:          service,
		GmailTransport: deps.GmailTransport,
		PageTimeout:    cfg.PageTimeout,
		InboxLimit:     cfg.InboxLimit,
		MessageURL:     messageURL,
		SandboxURL:     deps.SandboxURL,
		Templates:      deps.Templates,
		Static:         deps.Static,
		HTTPClient:     deps.HTTPClient,
		Logger:         log,
		Metrics:        m,
		Now:            deps.Now,
		Location:       deps.Location,
	})
	if err != nil {
		return nil, err
	}
	return &App{Web: handler, Server: NewHTTPServer(handler, log), Metrics: m}, nil
}

// NewHTTPServer sets the timeouts a server facing browsers needs; main
// serves the sandbox with it too. An idle connection holds about 20 KB
// (8,000 held 155 MB more), so it is closed after 30 s: a proxy's pool
// closes its own sooner (docs/nginx.conf: 20 s), and a browser that comes
// back later opens another.
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
