package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

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
	latency := fs.Duration("latency", 0, "added to every request an app's server sends (sandbox.SetLatency)")
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
	sb.SetLatency(*latency)
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
	return serve(ctx, srv, *addr, stdout)
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
	return serve(ctx, srv, *addr, stdout)
}

// serve prints the server's URL and serves until ctx is done.
func serve(ctx context.Context, srv *http.Server, addr string, stdout io.Writer) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
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
