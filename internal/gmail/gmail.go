// Package gmail is a small typed client for the parts of the Gmail REST API
// that the web app needs: the profile, listing messages, reading message
// metadata and assembling a page of unread messages quickly.
//
// It speaks to Gmail over net/http only. Authentication is the caller's job:
// the *http.Client handed to Service.Client must add the Bearer token (and
// refresh it), for example the client from golang.org/x/oauth2.
package gmail

import (
	"context"
	"errors"
	"fmt"
	"gmailoauth/internal/metrics"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Gmail's limits, which Config's zero values stand for.
const (
	defaultMaxInFlight      = 10
	maxBatchSize            = 50 // Gmail takes 100 calls per batch but rate-limits batches over 50
	defaultMaxAttempts      = 4
	defaultMaxResponseBytes = 1 << 20
	// maxResponseBytesLimit is far beyond any metadata response; bodies are
	// read into memory whole.
	maxResponseBytesLimit = 1 << 30
)

// Config configures a Service. BaseURL and CallTimeout are required: they
// are settings, and config.Load gives them their defaults. The zero value of
// the other fields means Gmail's limit or the standard library's choice.
type Config struct {
	// BaseURL is the Gmail API origin, e.g. "https://gmail.googleapis.com".
	// The list endpoint is BaseURL+"/gmail/v1/users/me/messages" and the batch
	// endpoint BaseURL+"/batch/gmail/v1".
	BaseURL string
	// CallTimeout bounds each HTTP call. The caller's ctx deadline bounds a
	// whole operation, retries included.
	CallTimeout time.Duration
	// MaxInFlight is the most HTTP calls one Client operation may have in
	// flight at once (default 10), because Gmail limits concurrent requests
	// per user.
	MaxInFlight int
	// BatchSize is the number of calls per batch request (default and
	// maximum 50).
	BatchSize int
	// MaxAttempts is the number of tries per call, the first included
	// (default 4).
	MaxAttempts int
	// MaxResponseBytes is the most bytes read from any response body
	// (default 1 MiB); a successful response that is longer fails with
	// ErrBadResponse, because a server can send anything.
	MaxResponseBytes int64
	// Cache holds message metadata across requests; nil disables caching.
	Cache *Cache
	// Logger receives retry and failure diagnostics (default: discarded).
	// Tokens and Authorization headers are never logged.
	Logger *slog.Logger
	// Metrics counts the calls, by method and status, and the quota they
	// spend; nil counts nothing.
	Metrics *metrics.Metrics
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx is done (default: a timer and ctx). Tests
	// inject it to observe backoff without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0,max) (default: uniform, from
	// math/rand/v2).
	Jitter func(max time.Duration) time.Duration
}

// Service holds the validated configuration and the cache shared by the
// Clients of all signed-in accounts.
type Service struct {
	cfg  Config
	base *url.URL
}

// NewService validates cfg, fills in Gmail's limits and returns a Service.
func NewService(cfg Config) (*Service, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("gmail config: %w", err)
	}
	if err := applyDefaults(&cfg); err != nil {
		return nil, fmt.Errorf("gmail config: %w", err)
	}
	return &Service{cfg: cfg, base: base}, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("BaseURL is empty")
	}
	base, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("BaseURL: %w", err)
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return nil, fmt.Errorf("BaseURL %q: scheme must be http or https", raw)
	}
	if base.Host == "" {
		return nil, fmt.Errorf("BaseURL %q: no host", raw)
	}
	// Credentials in the URL would end up in error messages and logs.
	if base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("BaseURL %q: must not contain user info, query or fragment", raw)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	return base, nil
}

func applyDefaults(cfg *Config) error {
	switch {
	case cfg.CallTimeout <= 0:
		return fmt.Errorf("CallTimeout %v is not positive", cfg.CallTimeout)
	case cfg.MaxInFlight < 0:
		return fmt.Errorf("MaxInFlight %d is negative", cfg.MaxInFlight)
	case cfg.BatchSize < 0 || cfg.BatchSize > maxBatchSize:
		return fmt.Errorf("BatchSize %d is outside 0..%d", cfg.BatchSize, maxBatchSize)
	case cfg.MaxAttempts < 0:
		return fmt.Errorf("MaxAttempts %d is negative", cfg.MaxAttempts)
	case cfg.MaxResponseBytes < 0 || cfg.MaxResponseBytes > maxResponseBytesLimit:
		return fmt.Errorf("MaxResponseBytes %d is outside 0..%d", cfg.MaxResponseBytes, maxResponseBytesLimit)
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = defaultMaxInFlight
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = maxBatchSize
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = defaultMaxAttempts
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = defaultMaxResponseBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepContext
	}
	if cfg.Jitter == nil {
		cfg.Jitter = uniformJitter
	}
	return nil
}

func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func uniformJitter(limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	return rand.N(limit)
}

// Client calls Gmail for one signed-in account. It is cheap: make one per
// request.
type Client struct {
	svc     *Service
	hc      *http.Client
	account string
}

// Cache returns the cache of Config.Cache, which may be nil.
func (s *Service) Cache() *Cache { return s.cfg.Cache }

// Client returns a Client that sends its requests through hc, which must
// authenticate them (a nil hc means http.DefaultClient, which only test
// servers accept). account is the signed-in address; it namespaces the
// cache so one account never sees another's entries, and "" disables caching
// for this Client.
func (s *Service) Client(hc *http.Client, account string) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	// Gmail does not redirect API calls, and following a redirect would hand
	// the token, which hc's transport adds to every request, to wherever it
	// points; a redirect is therefore returned, and fails as ErrBadResponse.
	noRedirects := *hc
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{svc: s, hc: &noRedirects, account: account}
}

// Profile is the signed-in user's mailbox profile.
type Profile struct {
	EmailAddress  string
	MessagesTotal int
	ThreadsTotal  int
	HistoryID     string
}

// Message is a Gmail message as far as this package decodes it. Bodies are
// not decoded: the app shows metadata only.
type Message struct {
	ID       string
	ThreadID string
	LabelIDs []string
	// Snippet is raw, as Gmail sends it: HTML-escaped.
	Snippet      string
	HistoryID    string
	InternalDate time.Time // zero when Gmail sent none
	SizeEstimate int
	Headers      []Header // the top-level headers of the payload, raw
}

// Header is one message header, undecoded.
type Header struct {
	Name  string
	Value string
}

// Header returns the value of the first header called name, compared
// case-insensitively, or "" if there is none.
func (m Message) Header(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}
