// Command gmailoauth signs a person in with Google (OAuth 2.0 authorization
// code with PKCE) and shows their unread Gmail. With no Google client
// configured it starts its own sandbox Google, so it runs offline.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"gmailoauth/internal/config"
	"gmailoauth/internal/sandbox"
	"gmailoauth/internal/web"
)

//go:embed templates static
var assets embed.FS

func main() {
	stop := make(chan os.Signal, 2)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	if err := run(stop, os.Args[1:], os.Getenv, net.Listen, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gmailoauth:", err)
		os.Exit(1)
	}
}

// shutdownTimeout bounds how long in-flight requests may take to finish
// after a stop signal.
const shutdownTimeout = 10 * time.Second

// run starts the app and serves until a stop signal, or with "sandbox" as
// its first argument the sandbox Google alone. The first signal drains and
// shuts down gracefully; a second one cuts the drain delay short. Listeners
// are bound, through listen, before anything is served, so a busy port
// fails at once.
func run(stop <-chan os.Signal, args []string, getenv func(string) string, listen func(network, address string) (net.Listener, error), stdout, stderr io.Writer) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if len(args) > 0 && args[0] == "sandbox" {
		return sandbox.Main(ctx, args[1:], getenv, stdout, stderr, web.NewHTTPServer)
	}
	cfg, err := config.Load(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage asked for is printed; that is success
	}
	if err != nil {
		return err
	}
	if cfg.NewKeys {
		_, err := fmt.Fprintln(stdout, config.NewSessionKeys())
		return err
	}
	log := newLogger(cfg.LogFormat, stdout)

	for _, warning := range cfg.Warnings() {
		log.Warn(warning)
	}
	listener, err := listen("tcp", cfg.Addr)
	if err != nil {
		return listenFailed("ADDR", err)
	}
	// Closed here should run() end before serving it; once served,
	// Shutdown closes it first.
	defer listener.Close()
	servers := []*http.Server{}
	serve := func(srv *http.Server, l net.Listener) <-chan error {
		servers = append(servers, srv)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(l) }()
		return done
	}

	deps, err := newDeps(log)
	if err != nil {
		return err
	}
	var sandboxDone <-chan error
	if cfg.Sandbox {
		sandbox.WarnBeyondLoopback(log, "SANDBOX_ADDR", cfg.SandboxAddr)
		sandboxListener, err := listen("tcp", cfg.SandboxAddr)
		if err != nil {
			return listenFailed("SANDBOX_ADDR", err)
		}
		defer sandboxListener.Close()
		sb, err := useSandbox(&cfg, &deps, sandbox.BaseURL(sandboxListener.Addr()))
		if err != nil {
			return err
		}
		log.Warn("no GOOGLE_CLIENT_ID: running against the built-in sandbox Google, not real Gmail", "sandbox", deps.SandboxURL)
		sandboxDone = serve(web.NewHTTPServer(sb, log), sandboxListener)
	}
	if cfg.RandomKeys {
		log.Warn("SESSION_KEYS not set: using random keys, so sessions will not survive a restart")
	}

	app, err := web.New(cfg, deps)
	if err != nil {
		return err
	}
	var metricsDone <-chan error
	if cfg.MetricsAddr != "" {
		metricsListener, err := listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return listenFailed("METRICS_ADDR", err)
		}
		defer metricsListener.Close()
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", deps.Metrics.Handler())
		log.Info("metrics", "url", "http://"+metricsListener.Addr().String()+"/metrics")
		metricsDone = serve(web.NewHTTPServer(mux, log), metricsListener)
	}
	log.Info("listening", "url", "http://"+listener.Addr().String(), "redirect_url", cfg.RedirectURL)
	appDone := serve(web.NewHTTPServer(app, log), listener)

	select {
	case err = <-appDone:
	case err = <-sandboxDone:
	case err = <-metricsDone:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	app.Drain()
	if err == nil && cfg.DrainDelay > 0 {
		// Load balancers poll /readyz; give them time to see the 503.
		log.Info("draining", "for", cfg.DrainDelay)
		select {
		case <-time.After(cfg.DrainDelay):
		case <-stop:
			log.Info("second stop signal: ending the drain early")
		}
	}
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancelShutdown()
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

// newDeps is production's dependencies around the embedded templates and
// static files.
func newDeps(log *slog.Logger) (web.Deps, error) {
	templates, err := fs.Sub(assets, "templates")
	if err != nil {
		return web.Deps{}, err
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return web.Deps{}, err
	}
	return web.NewDeps(templates, static, log), nil
}

// useSandbox builds the stand-in Google served at base and points the app
// at it: its client, and every endpoint the configuration left empty.
func useSandbox(cfg *config.Config, deps *web.Deps, base string) (*sandbox.Server, error) {
	cfg.ClientID, cfg.ClientSecret = sandbox.ClientID, rand.Text()
	sb, err := sandbox.New(sandbox.Options{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RedirectURIs: []string{cfg.RedirectURL},
		Strict:       true,
		Logger:       deps.Logger.With("component", "sandbox"),
	})
	if err != nil {
		return nil, err
	}
	endpoints := sandbox.EndpointsAt(base)
	cfg.AuthURL = cmp.Or(cfg.AuthURL, endpoints.AuthURL)
	cfg.TokenURL = cmp.Or(cfg.TokenURL, endpoints.TokenURL)
	cfg.RevokeURL = cmp.Or(cfg.RevokeURL, endpoints.RevokeURL)
	cfg.GmailAPIURL = cmp.Or(cfg.GmailAPIURL, endpoints.GmailAPIURL)
	deps.SandboxURL = base
	deps.MessageURL = func(account, id string) string { return sandbox.MessageURL(base, account, id) }
	return sb, nil
}

// listenFailed is the error for a failed listen on the address that
// variable set; a port in use says how to pick another.
func listenFailed(variable string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s: %w; set %s to another host:port", variable, err, variable)
	}
	return fmt.Errorf("%s: %w", variable, err)
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
