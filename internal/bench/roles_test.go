package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReplayAnswersAsTheAppDid checks the replay role: every request gets
// the status, headers and body the original gave, with a Date of its own.
func TestReplayAnswersAsTheAppDid(t *testing.T) {
	original := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Date", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "<!DOCTYPE html><title>start</title>")
	}))
	defer original.Close()

	for _, timeouts := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		out, in := io.Pipe()
		done := make(chan error, 1)
		args := []string{"-from", original.URL + "/"}
		if timeouts {
			args = append(args, "-timeouts")
		}
		go func() { done <- serveReplay(ctx, args, in) }()
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			t.Fatalf("replay printed no URL: %v", err)
		}
		for range 2 {
			resp, err := http.Get(strings.TrimSpace(line) + "/anything")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusTeapot || string(body) != "<!DOCTYPE html><title>start</title>" {
				t.Errorf("timeouts %v: GET = %d %q; want 418 and the original's body", timeouts, resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != "default-src 'none'" {
				t.Errorf("timeouts %v: Content-Security-Policy = %q; want the original's", timeouts, got)
			}
			if got := resp.Header.Get("Date"); got == "" || got == "Mon, 02 Jan 2006 15:04:05 GMT" {
				t.Errorf("timeouts %v: Date = %q; want the replay's own", timeouts, got)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("timeouts %v: replay: %v", timeouts, err)
		}
	}
}
