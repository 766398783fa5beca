package web_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/sandbox"
)

// googleCall is one request the app sent to Google, with the order in
// which it reached the sandbox and left it, counted on one sequence shared
// by every call: start < other.end means the two were out at the same time.
type googleCall struct {
	name       string // "token", "profile", "list", "batch", or the path
	start, end int64
}

// googleCalls records the app's calls to the sandbox. It holds the profile
// call until a list call has reached the sandbox, so that a sign-in that
// waited for the profile before listing cannot pass by luck of timing: it
// would hold the profile until holdLimit and then show the wait.
type googleCalls struct {
	seq         atomic.Int64
	mu          sync.Mutex
	calls       []googleCall
	listStarted chan struct{} // closed by the first list call since take
	listed      bool
}

// holdLimit bounds how long the profile call is held when no list comes:
// only a sign-in that waits on the profile ever reaches it.
const holdLimit = 2 * time.Second

func newGoogleCalls() *googleCalls {
	return &googleCalls{listStarted: make(chan struct{})}
}

func (g *googleCalls) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := callName(r)
		if name == "" {
			next.ServeHTTP(w, r) // a page the browser opens
			return
		}
		call := googleCall{name: name, start: g.seq.Add(1)}
		g.mu.Lock()
		listStarted := g.listStarted
		if name == "list" && !g.listed {
			g.listed = true
			close(listStarted)
		}
		g.mu.Unlock()
		if name == "profile" {
			select {
			case <-listStarted:
			case <-r.Context().Done():
			case <-time.After(holdLimit):
			}
		}
		next.ServeHTTP(w, r)
		call.end = g.seq.Add(1)
		g.mu.Lock()
		g.calls = append(g.calls, call)
		g.mu.Unlock()
	})
}

// callName names a request the app's server sends to Google, or "" for
// one a browser sends.
func callName(r *http.Request) string {
	switch path := r.URL.Path; {
	case path == sandbox.TokenPath:
		return "token"
	case path == sandbox.RevokePath:
		return "revoke"
	case path == sandbox.GmailBatchPath:
		return "batch"
	case strings.HasSuffix(path, "/profile"):
		return "profile"
	case strings.HasSuffix(path, "/messages"):
		return "list"
	case strings.HasPrefix(path, "/gmail/"):
		return path
	}
	return ""
}

// take returns the calls recorded so far by name, forgets them, and holds
// the next profile call again until the next list call.
func (g *googleCalls) take() map[string]googleCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.listStarted, g.listed = make(chan struct{}), false
	byName := map[string]googleCall{}
	for _, c := range g.calls {
		if _, twice := byName[c.name]; twice {
			byName[c.name+"#2"] = c
			continue
		}
		byName[c.name] = c
	}
	g.calls = nil
	return byName
}

// TestSignInShape checks the order of Google's round trips from the
// callback to the inbox, not their time: the token exchange, then the
// list with the profile beside it, then (only when the metadata is not
// cached) one batch. Three round trips on a first sign-in, two on a later
// one, whatever the network's delay.
func TestSignInShape(t *testing.T) {
	calls := newGoogleCalls()
	_, app := start(t, apptest.Options{WrapSandbox: calls.wrap})

	for _, tt := range []struct {
		name string
		want []string // the calls, in the order they must run one after another
	}{
		{name: "first sign-in", want: []string{"token", "list", "batch"}},
		{name: "later sign-in, metadata cached", want: []string{"token", "list"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := apptest.NewBrowser(t)
			consent := b.StartSignIn(t, app)
			consent.Form.Set("account", hanako)
			back := b.Decide(t, consent, "allow").Location(t).String()
			calls.take() // the sign-in's pages are the browser's
			inbox := browse(t, b, b.Get(t, back))
			wantStatus(t, inbox, http.StatusOK)
			if got := signedInAs(t, inbox); got != hanako {
				t.Errorf("inbox names %q; want %s", got, hanako)
			}

			got := calls.take()
			if len(got) != len(tt.want)+1 {
				t.Fatalf("calls to Google from /callback to the inbox: %v; want %v and the profile", got, tt.want)
			}
			for i, name := range tt.want {
				call, ok := got[name]
				if !ok {
					t.Fatalf("no %s call; calls: %v", name, got)
				}
				if i > 0 && got[tt.want[i-1]].end > call.start {
					t.Errorf("%s started before %s ended; want them one after another: %v", name, tt.want[i-1], got)
				}
			}
			profile, ok := got["profile"]
			if !ok {
				t.Fatalf("no profile call; calls: %v", got)
			}
			if list := got["list"]; list.start > profile.end || profile.start < got["token"].end {
				t.Errorf("profile %v and list %v: want the profile out beside the list, after the exchange", profile, list)
			}
		})
	}
}
