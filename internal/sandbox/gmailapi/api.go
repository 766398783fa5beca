package gmailapi

import (
	"crypto/rand"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"gmailoauth/internal/sandbox/mailstore"
	"gmailoauth/internal/sandbox/oauth"
)

// Config is what the API needs, from the sandbox's Options.
type Config struct {
	Strict bool
	Now    func() time.Time
	Logger *slog.Logger
	Store  *mailstore.Store
	// Tokens says who an access token is for (LookupAccess), the one way
	// the API reads the token store.
	Tokens *oauth.Provider
}

// API is the Gmail API of the sandbox: its methods, batches, partial
// responses, discovery document, latency and injected faults. It is safe
// for concurrent use.
type API struct {
	strict bool
	now    func() time.Time
	log    *slog.Logger
	// pageTokenKey authenticates list page tokens so forged or edited ones are
	// refused, as Gmail refuses them.
	pageTokenKey []byte
	store        *mailstore.Store
	tokens       *oauth.Provider

	gmail   *http.ServeMux
	faults  faultInjector
	latency atomic.Int64 // a time.Duration
	// shuffleBatches is ShuffleBatchResponses's setting.
	shuffleBatches atomic.Bool
	stats          counters
}

type counters struct {
	gmailCalls, batchParts, inFlight, maxInFlight atomic.Int64
}

// New returns the API over config.Store.
func New(config Config) *API {
	s := &API{
		strict:       config.Strict,
		now:          config.Now,
		log:          config.Logger,
		pageTokenKey: make([]byte, 32),
		store:        config.Store,
		tokens:       config.Tokens,
	}
	// crypto/rand.Read never returns an error since Go 1.24.
	rand.Read(s.pageTokenKey)
	s.gmail = s.gmailMux()
	return s
}

// Gmail serves the Gmail methods, under /gmail/, each after the latency.
func (s *API) Gmail() http.Handler {
	return s.countGmailCall(s.OverNetwork(s.gmail))
}

// Batch serves Google's batch endpoint, after the latency.
func (s *API) Batch() http.Handler {
	return s.countGmailCall(s.OverNetwork(http.HandlerFunc(s.serveBatch)))
}

// Paths lists the routes of the Gmail methods, with "me" for the user, for
// the sandbox's index page.
func (s *API) Paths() []string {
	var paths []string
	for _, method := range s.gmailMethods() {
		paths = append(paths, strings.Replace(method.pattern, "{userId}", "me", 1))
	}
	return paths
}

// countGmailCall tracks the Gmail HTTP requests for Stats.
func (s *API) countGmailCall(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.stats.gmailCalls.Add(1)
		current := s.stats.inFlight.Add(1)
		defer s.stats.inFlight.Add(-1)
		for {
			peak := s.stats.maxInFlight.Load()
			if current <= peak || s.stats.maxInFlight.CompareAndSwap(peak, current) {
				break
			}
		}
		next.ServeHTTP(w, r)
	})
}

// SetLatency adds d to every request an app's server makes: the token and
// revocation endpoints (through OverNetwork), each Gmail API call, and a
// batch as a whole (its parts add none).
func (s *API) SetLatency(d time.Duration) {
	s.latency.Store(int64(max(d, 0)))
}

// Stats counts the Gmail traffic since New or ResetStats.
type Stats struct {
	GmailCalls  int64 // HTTP requests to Gmail endpoints; a batch counts once
	BatchParts  int64 // requests inside batches
	MaxInFlight int64 // peak number of concurrent Gmail HTTP requests
}

// Stats returns the counters since New or the last ResetStats.
func (s *API) Stats() Stats {
	return Stats{
		GmailCalls:  s.stats.gmailCalls.Load(),
		BatchParts:  s.stats.batchParts.Load(),
		MaxInFlight: s.stats.maxInFlight.Load(),
	}
}

// ResetStats zeroes the counters. MaxInFlight restarts from the number of
// Gmail requests in flight right now.
func (s *API) ResetStats() {
	s.stats.gmailCalls.Store(0)
	s.stats.batchParts.Store(0)
	s.stats.maxInFlight.Store(s.stats.inFlight.Load())
}
