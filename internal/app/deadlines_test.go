package app

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sweep is the sweep interval of these tests: short, so that a test takes
// well under a second, and a tenth of their timeouts.
const sweep = 20 * time.Millisecond

// guard bounds every wait: reached only when the code under test is broken.
const guard = 10 * time.Second

// serveSwept serves srv through a swept listener on a loopback port until
// the test ends.
func serveSwept(t *testing.T, srv *http.Server) (*sweptListener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	swept := sweptDeadlines(l, sweep)
	go srv.Serve(swept)
	t.Cleanup(func() { srv.Close() })
	return swept, l.Addr().String()
}

// connect opens a connection through a listener swept every every, and
// returns the listener and both ends; all are closed when the test ends.
func connect(t *testing.T, every time.Duration) (swept *sweptListener, client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	swept = sweptDeadlines(l, every)
	t.Cleanup(func() { swept.Close() })
	if client, err = net.Dial("tcp", l.Addr().String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if server, err = swept.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return swept, client, server
}

// TestSweptDeadlinesKeepConnectionsAlive: a keep-alive connection serves
// request after request, back to back and after pauses. After each
// response, net/http stops the read it started with a deadline in the past,
// then clears it. Were that deadline left to the sweeper, a pause longer
// than a sweep would end the connection; were it never cleared, the next
// request would fail.
func TestSweptDeadlinesKeepConnectionsAlive(t *testing.T) {
	var opened atomic.Int64
	srv := NewHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), slog.New(slog.DiscardHandler))
	srv.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	_, addr := serveSwept(t, srv)
	client := &http.Client{Timeout: guard}
	const requests = 200
	for i := range requests {
		if i%40 == 39 {
			time.Sleep(3 * sweep) // the pause is the scenario, not a wait for something
		}
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "ok" {
			t.Fatalf("request %d: body %q, %v; want ok", i+1, body, err)
		}
	}
	if n := opened.Load(); n != 1 {
		t.Errorf("%d requests opened %d connections; want 1, kept alive", requests, n)
	}
}

// TestSweptDeadlinesEndSlowClients: each of the server's timeouts still
// ends the connection of a client that is too slow, once the timeout has
// passed and never before.
func TestSweptDeadlinesEndSlowClients(t *testing.T) {
	const timeout = 10 * sweep
	tests := []struct {
		name string
		// server sets one timeout; report is where its handler reports a
		// failed read or write, if the test needs it.
		server func(report chan<- error) *http.Server
		// client does what the slow client does on conn.
		client func(t *testing.T, conn net.Conn)
		// handlerFails: the end is seen by the handler, not the client.
		handlerFails bool
	}{
		{
			name: "idle after a response (IdleTimeout)",
			server: func(chan<- error) *http.Server {
				return &http.Server{IdleTimeout: timeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
			},
			client: func(t *testing.T, conn net.Conn) {
				io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("first response: %v", err)
				}
				resp.Body.Close()
			},
		},
		{
			name: "headers never finished (ReadHeaderTimeout)",
			server: func(chan<- error) *http.Server {
				return &http.Server{ReadHeaderTimeout: timeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
			},
			client: func(t *testing.T, conn net.Conn) { io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n") },
		},
		{
			name: "body never sent (ReadTimeout)",
			server: func(report chan<- error) *http.Server {
				return &http.Server{ReadTimeout: timeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, err := io.ReadAll(r.Body)
					report <- err
				})}
			},
			client: func(t *testing.T, conn net.Conn) {
				io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
			},
			handlerFails: true,
		},
		{
			name: "response never read (WriteTimeout)",
			server: func(report chan<- error) *http.Server {
				return &http.Server{WriteTimeout: timeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					chunk := make([]byte, 1<<20)
					var err error
					for i := 0; i < 256 && err == nil; i++ { // 256 MiB: more than any socket buffer
						_, err = w.Write(chunk)
					}
					report <- err
				})}
			},
			client:       func(t *testing.T, conn net.Conn) { io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") },
			handlerFails: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := make(chan error, 1)
			srv := tt.server(report)
			srv.ErrorLog = nil
			_, addr := serveSwept(t, srv)
			// Before the dial: the server may start the timeout as soon as
			// it accepts.
			start := time.Now()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			tt.client(t, conn)

			if tt.handlerFails {
				select {
				case err := <-report:
					if err == nil {
						t.Fatalf("the handler's read or write succeeded; want it failed by the timeout")
					}
				case <-time.After(guard):
					t.Fatalf("the handler still waits on the slow client after %v", guard)
				}
			} else {
				conn.SetReadDeadline(time.Now().Add(guard))
				if n, err := io.Copy(io.Discard, conn); err != nil {
					t.Fatalf("the connection was not closed: read %d bytes, then %v", n, err)
				}
			}
			if elapsed := time.Since(start); elapsed < timeout {
				t.Errorf("the connection ended after %v; want not before the timeout, %v", elapsed, timeout)
			}
		})
	}
}

// TestSweptDeadlinesNearDeadlineIsExact: a deadline within two sweeps, as
// the one in the past net/http sets to stop a read, stops a blocked read at
// once with the error a deadline gives; cleared, the connection reads again.
func TestSweptDeadlinesNearDeadlineIsExact(t *testing.T) {
	// A sweep long enough that only the connection's own deadline can end
	// the read within the test.
	_, client, server := connect(t, time.Hour)

	read := make(chan error, 1)
	go func() {
		_, err := server.Read(make([]byte, 1))
		read <- err
	}()
	server.SetReadDeadline(time.Unix(1, 0))
	select {
	case err := <-read:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after a deadline in the past: %v; want os.ErrDeadlineExceeded", err)
		}
	case <-time.After(guard):
		t.Fatalf("a deadline in the past left the read blocked for %v", guard)
	}

	server.SetReadDeadline(time.Time{})
	wantReadable(t, client, server, "after the deadline was cleared")
}

// readOne reads a byte from conn and returns the error; a read still
// blocked after guard fails the test.
func readOne(t *testing.T, conn net.Conn) error {
	t.Helper()
	read := make(chan error, 1)
	go func() {
		_, err := conn.Read(make([]byte, 1))
		read <- err
	}()
	select {
	case err := <-read:
		return err
	case <-time.After(guard):
		t.Fatalf("a read is still blocked after %v", guard)
		return nil
	}
}

// wantReadable sends a byte from client and wants server to read it.
func wantReadable(t *testing.T, client, server net.Conn, when string) {
	t.Helper()
	io.WriteString(client, "x")
	buf := make([]byte, 1)
	if _, err := io.ReadFull(server, buf); err != nil || buf[0] != 'x' {
		t.Fatalf("a read %s: %q, %v; want x", when, buf, err)
	}
}

// TestSweptDeadlinesSweepUntilTheLastConnection: closing the listener
// stops accepting, not sweeping: Shutdown lets the connections open finish,
// and their deadlines still hold. The sweeps end with the last one.
func TestSweptDeadlinesSweepUntilTheLastConnection(t *testing.T) {
	swept, _, server := connect(t, sweep)
	swept.Close()
	if _, err := swept.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v; want net.ErrClosed", err)
	}
	select {
	case <-swept.done:
		t.Fatalf("sweeps ended at Close with a connection open")
	default:
	}

	server.SetReadDeadline(time.Now().Add(5 * sweep))
	if err := readOne(t, server); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past a deadline after Close: %v; want os.ErrDeadlineExceeded", err)
	}
	server.Close()
	select {
	case <-swept.done:
	case <-time.After(guard):
		t.Fatalf("sweeps go on %v after the last connection closed", guard)
	}
}

// TestSweptDeadlinesFailOneDirection: a kept deadline found past fails
// that direction as a real deadline does, and no more: the other direction
// still works, and a new deadline lifts it.
func TestSweptDeadlinesFailOneDirection(t *testing.T) {
	_, client, server := connect(t, sweep)
	timeout := 10 * sweep
	start := time.Now()
	server.SetReadDeadline(start.Add(timeout))
	if err := readOne(t, server); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v; want os.ErrDeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed < timeout {
		t.Errorf("the read failed after %v; want not before its deadline, %v", elapsed, timeout)
	}
	io.WriteString(server, "w")
	client.SetReadDeadline(time.Now().Add(guard))
	if got, err := io.ReadAll(io.LimitReader(client, 1)); err != nil || string(got) != "w" {
		t.Fatalf("a write after the read deadline passed: the client read %q, %v; want w", got, err)
	}
	server.SetReadDeadline(time.Time{})
	wantReadable(t, client, server, "after the deadline was lifted")
}

// TestSweptDeadlinesAcceptConcurrentChanges: net.Conn allows deadlines to
// be set from several goroutines at once. A deadline in the past and a
// clearing one, set together, leave the connection either failing reads or
// not, as the wrapper records it; never a past deadline it has forgotten.
// make test runs it under the race detector, which sees unordered changes
// even when the two calls do not happen to overlap.
func TestSweptDeadlinesAcceptConcurrentChanges(t *testing.T) {
	_, client, server := connect(t, time.Hour)
	conn := server.(*sweptConn)
	for range 300 {
		var wg sync.WaitGroup
		wg.Go(func() { conn.SetReadDeadline(time.Unix(1, 0)) })
		wg.Go(func() { conn.SetReadDeadline(time.Time{}) })
		wg.Wait()
		conn.read.mu.Lock()
		own := conn.read.own
		conn.read.mu.Unlock()
		if !own {
			wantReadable(t, client, conn, "when the wrapper holds no deadline on the connection")
		}
		conn.SetReadDeadline(time.Time{})
	}
}

// TestSweptDeadlinesLetAResponseOut: a handler that leaves the body of a
// request unread still answers after ReadTimeout has passed, as on a
// connection with real deadlines: net/http reads nothing more then, so the
// passed read deadline fails nothing.
func TestSweptDeadlinesLetAResponseOut(t *testing.T) {
	const timeout = 10 * sweep
	srv := &http.Server{ReadTimeout: timeout, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * timeout) // the slow handler is the scenario
		io.WriteString(w, "ok")
	})}
	_, addr := serveSwept(t, srv)
	client := &http.Client{Timeout: guard}
	resp, err := client.Post("http://"+addr+"/", "text/plain", strings.NewReader("abc"))
	if err != nil {
		t.Fatalf("POST: %v; want the handler's answer", err)
	}
	defer resp.Body.Close()
	if body, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("POST = %d %q; want 200 ok", resp.StatusCode, body)
	}
}

// TestSweptConnCloseWrite: net/http half-closes a connection through
// CloseWrite so that the client reads the response before the connection
// ends; the wrapper must pass it on.
func TestSweptConnCloseWrite(t *testing.T) {
	_, client, server := connect(t, sweep)
	io.WriteString(server, "bye")
	if err := server.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(guard))
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "bye" {
		t.Fatalf("client read %q, %v; want bye, then EOF", got, err)
	}
}
