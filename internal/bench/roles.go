package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gmailoauth/internal/app"
	"gmailoauth/internal/sandbox"
)

// serveSandbox is the "sandbox" role: the stand-in Google in a process of
// its own, as production has Google on the other side of a network. It
// prints its URL on the first line of stdout and serves until ctx ends. It
// also answers GET /bench/connections with the number of connections it has
// accepted, so the bench can tell whether the app's Gmail transport churns.
func serveSandbox(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	secret := fs.String("secret", "", "the client secret of the app")
	redirects := fs.String("redirect", "", "comma-separated redirect URIs of the apps")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sb, err := sandbox.New(sandbox.Options{
		ClientID:     sandbox.ClientID,
		ClientSecret: *secret,
		RedirectURIs: strings.Split(*redirects, ","),
		Strict:       true,
	})
	if err != nil {
		return err
	}
	var accepted atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bench/connections", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strconv.FormatInt(accepted.Load(), 10))
	})
	mux.Handle("/", sb)
	srv := &http.Server{Handler: mux, ConnState: func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			accepted.Add(1)
		}
	}}
	return serve(ctx, srv, *addr, stdout, nil)
}

// serveHello is the "hello" role: the bare net/http handler that / is
// compared with.
func serveHello(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("hello", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello, world!\n")
	})}
	return serve(ctx, srv, *addr, stdout, nil)
}

// serveReplay is the "replay" role: a bare net/http handler that answers
// every request with the response the app gave to GET from once (status,
// headers but Date, and body), so the bench can tell what of the gap
// between the app's / and the bare handler is its response (bytes and
// headers, which net/http clones, sorts and writes) and what is the app.
// With -timeouts it is served as main serves the app: with the app's server
// timeouts.
func serveReplay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	from := fs.String("from", "", "the URL whose response to replay (required)")
	timeouts := fs.Bool("timeouts", false, "serve with the app's server timeouts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	resp, err := http.Get(*from)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	header := resp.Header.Clone()
	header.Del("Date") // net/http writes its own, as for the app
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for name, values := range header {
			h[name] = values
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
	})
	srv := &http.Server{Handler: handler}
	if !*timeouts {
		return serve(ctx, srv, *addr, stdout, nil)
	}
	srv = app.NewHTTPServer(handler, slog.New(slog.DiscardHandler))
	return serve(ctx, srv, *addr, stdout, nil)
}

// serve prints the server's URL and serves until ctx is done, through
// wrap(listener) when wrap is not nil.
func serve(ctx context.Context, srv *http.Server, addr string, stdout io.Writer, wrap func(net.Listener) net.Listener) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if wrap != nil {
		l = wrap(l)
	}
	fmt.Fprintf(stdout, "http://%s\n", l.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
