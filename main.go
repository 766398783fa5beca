// Command gmailoauth signs a person in with Google (OAuth 2.0 authorization
// code with PKCE) and shows their unread Gmail. With no Google client
// configured it starts its own sandbox Google, so it runs offline.
package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"gmailoauth/internal/config"
	"gmailoauth/internal/gmail"
	"gmailoauth/internal/sandbox"
	"gmailoauth/internal/web"
)

//go:embed templates static
var assets embed.FS

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gmailoauth:", err)
		os.Exit(1)
	}
}

// shutdownTimeout bounds how long in-flight requests may take to finish
// after a stop signal.
const shutdownTimeout = 10 * time.Second

// run starts the app and serves until ctx is done. Listeners are bound
// before anything is served, so a busy port fails at once.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.NewKeys {
		_, err := fmt.Fprintln(stdout, config.NewSessionKeys())
		return err
	}
	log := newLogger(cfg.LogFormat, stdout)

	listener, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("ADDR: %w", err)
	}
	servers := []*http.Server{}
	serve := func(srv *http.Server, l net.Listener) <-chan error {
		servers = append(servers, srv)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(l) }()
		return done
	}

	var sandboxURL string
	var sandboxDone <-chan error
	if cfg.Sandbox {
		sandboxListener, err := net.Listen("tcp", cfg.SandboxAddr)
		if err != nil {
			listener.Close()
			return fmt.Errorf("SANDBOX_ADDR: %w", err)
		}
		sb, err := sandbox.New(sandbox.Options{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			RedirectURIs: []string{cfg.RedirectURL},
			Logger:       log.With("component", "sandbox"),
		})
		if err != nil {
			listener.Close()
			sandboxListener.Close()
			return err
		}
		sandboxURL = "http://" + sandboxListener.Addr().String()
		log.Warn("no GOOGLE_CLIENT_ID: running against the built-in sandbox Google, not real Gmail", "sandbox", sandboxURL)
		sandboxDone = serve(newServer(sb, log), sandboxListener)
	}
	if cfg.RandomKeys {
		log.Warn("SESSION_KEYS not set: using random keys, so sessions will not survive a restart")
	}

	app, err := newApp(cfg, sandboxURL, log)
	if err != nil {
		listener.Close()
		return err
	}
	log.Info("listening", "url", "http://"+listener.Addr().String(), "redirect_url", cfg.RedirectURL)
	appDone := serve(newServer(app, log), listener)

	select {
	case err = <-appDone:
	case err = <-sandboxDone:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	app.Drain()
	if err == nil && cfg.DrainDelay > 0 {
		log.Info("draining", "for", cfg.DrainDelay)
		time.Sleep(cfg.DrainDelay) // load balancers poll /readyz; give them time to see the 503
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Last started, first stopped: the app drains while the sandbox it
	// calls still answers, so requests in flight at the stop complete.
	for _, srv := range slices.Backward(servers) {
		if shutdownErr := srv.Shutdown(shutdownCtx); shutdownErr != nil && err == nil {
			err = fmt.Errorf("shutdown: %w", shutdownErr)
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// newApp wires the configuration into the web app.
func newApp(cfg config.Config, sandboxURL string, log *slog.Logger) (*web.Server, error) {
	templates, err := fs.Sub(assets, "templates")
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	service, err := gmail.NewService(gmail.Config{
		BaseURL:     cfg.GmailAPIURL,
		CallTimeout: cfg.CallTimeout,
		Cache:       gmail.NewCache(32 << 20),
		Logger:      log.With("component", "gmail"),
	})
	if err != nil {
		return nil, fmt.Errorf("GMAIL_API_URL: %w", err)
	}
	messageURL := func(account, id string) string {
		return "https://mail.google.com/mail/u/" + url.PathEscape(account) + "/#all/" + url.PathEscape(id)
	}
	if sandboxURL != "" {
		messageURL = func(account, id string) string {
			return sandbox.MessageURL(sandboxURL, account, id)
		}
	}
	return web.New(web.Options{
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		RedirectURL:   cfg.RedirectURL,
		AuthURL:       cfg.AuthURL,
		TokenURL:      cfg.TokenURL,
		RevokeURL:     cfg.RevokeURL,
		SessionKeys:   cfg.SessionKeys,
		SecureCookies: cfg.SecureCookies(),
		Gmail:         service,
		PageTimeout:   cfg.PageTimeout,
		MessageURL:    messageURL,
		SandboxURL:    sandboxURL,
		Templates:     templates,
		Static:        static,
		HTTPClient:    &http.Client{Timeout: 10 * time.Second},
		Logger:        log,
	})
}

// newServer sets the timeouts a server facing browsers needs.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
