package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"gmailoauth/internal/sandbox/gmailapi"
	"gmailoauth/internal/sandbox/mailstore"
	"gmailoauth/internal/sandbox/oauth"
)

// The scopes the sandbox grants, as Google names them. GmailScope is
// Gmail's read-only scope, the one this project's app asks for.
const (
	GmailScope         = oauth.GmailScope
	OpenIDScope        = oauth.OpenIDScope
	EmailScope         = oauth.EmailScope
	ProfileScope       = oauth.ProfileScope
	GmailModifyScope   = oauth.GmailModifyScope
	GmailInsertScope   = oauth.GmailInsertScope
	GmailLabelsScope   = oauth.GmailLabelsScope
	GmailMetadataScope = oauth.GmailMetadataScope
	MailScope          = oauth.MailScope
)

// Paths of the endpoints, relative to the sandbox's base URL. They mirror
// Google's so the app only swaps hosts between the sandbox and production.
const (
	AuthPath       = oauth.AuthPath
	TokenPath      = oauth.TokenPath
	RevokePath     = oauth.RevokePath
	UserinfoPath   = oauth.UserinfoPath
	DiscoveryPath  = oauth.DiscoveryPath
	CertsPath      = oauth.CertsPath
	PEMCertsPath   = oauth.PEMCertsPath
	TokeninfoPath  = oauth.TokeninfoPath
	GmailBatchPath = "/batch/gmail/v1"
	// GmailDiscoveryPath is the Gmail discovery document's (also at
	// /$discovery/rest).
	GmailDiscoveryPath = gmailapi.DiscoveryPath
)

// messagePagePattern is the sandbox's read-only view of one message, its
// stand-in for opening a message in Gmail on the web.
const messagePagePattern = "/mail/u/{account}/message/{id}"

// MessageURL is the address of the sandbox's page for message id of
// account, given the sandbox's base URL.
func MessageURL(base, account, id string) string {
	return base + "/mail/u/" + url.PathEscape(account) + "/message/" + url.PathEscape(id)
}

// ClientID is the client the sandbox registers for the app when the app
// runs against it instead of Google.
const ClientID = "sandbox-client.apps.googleusercontent.com"

// Endpoints are the URLs an app uses to reach the sandbox in place of
// Google's, given the sandbox's base URL.
type Endpoints struct {
	AuthURL, TokenURL, RevokeURL, GmailAPIURL string
}

// EndpointsAt returns the sandbox's endpoints under base.
func EndpointsAt(base string) Endpoints {
	return Endpoints{
		AuthURL:     base + AuthPath,
		TokenURL:    base + TokenPath,
		RevokeURL:   base + RevokePath,
		GmailAPIURL: base,
	}
}

// Defaults applied by New when the corresponding Options field is zero.
const (
	DefaultAccessTokenTTL = time.Hour
	DefaultCodeTTL        = 5 * time.Minute
)

// Options configures a Server. ClientID, ClientSecret and RedirectURIs are
// required: like Google, the sandbox knows exactly one registered client.
type Options struct {
	ClientID, ClientSecret string
	// RedirectURIs are compared byte for byte with the redirect_uri of
	// authorization and token requests, as Google does.
	RedirectURIs   []string
	AccessTokenTTL time.Duration // default DefaultAccessTokenTTL
	CodeTTL        time.Duration // default DefaultCodeTTL; also bounds consent pages
	Now            func() time.Time
	Logger         *slog.Logger // default discards
	// Strict turns on the rules, listed in the package documentation, by
	// which the sandbox refuses what Google accepts but an app should
	// never send. The app's own runs and tests turn it on; a client
	// that wants Google's behaviour leaves it off.
	Strict bool
	// AutoApprove, a seeded account, answers every authorization request
	// (but prompt=none, which keeps its meaning) at once, as if the person
	// had chosen that account and allowed every scope asked for: a client's
	// CI then signs in without a page.
	AutoApprove string
}

// Server is the sandbox: an http.Handler serving Google's sign-in, token,
// revocation and Gmail endpoints from memory. It is safe for concurrent use.
type Server struct {
	clientID     string
	redirectURIs []string
	now          func() time.Time
	log          *slog.Logger
	// contentSecurityPolicy is computed once from the redirect URIs because
	// form-action must allow the 303 to the app after the consent POST.
	contentSecurityPolicy string

	store   *mailstore.Store // the mailboxes, each under a lock of its own
	oauth   *oauth.Provider  // sign-in, with the token store
	api     *gmailapi.API    // the Gmail API over store, reading tokens from oauth
	handler http.Handler
}

// Token is a set of credentials minted by IssueToken.
type Token = oauth.Token

// Stats counts the traffic the sandbox has served since New or ResetStats.
type Stats struct {
	GmailCalls    int64 // HTTP requests to Gmail endpoints; a batch counts once
	BatchParts    int64 // requests inside batches
	TokenCalls    int64 // requests to TokenPath, successful or not
	RevokeCalls   int64 // requests to RevokePath, successful or not
	RefreshGrants int64 // authenticated token requests with grant_type=refresh_token
	MaxInFlight   int64 // peak number of concurrent Gmail HTTP requests
}

// New validates opts, seeds the mailboxes relative to opts.Now() and returns
// a ready Server.
func New(opts Options) (*Server, error) {
	if opts.ClientID == "" {
		return nil, errors.New("sandbox: Options.ClientID is required")
	}
	if opts.ClientSecret == "" {
		return nil, errors.New("sandbox: Options.ClientSecret is required")
	}
	if len(opts.RedirectURIs) == 0 {
		return nil, errors.New("sandbox: Options.RedirectURIs needs at least one URI")
	}
	origins := []string{"'self'"}
	for _, raw := range opts.RedirectURIs {
		origin, err := redirectOrigin(raw)
		if err != nil {
			return nil, fmt.Errorf("sandbox: redirect URI %q: %w", raw, err)
		}
		if !slices.Contains(origins, origin) {
			origins = append(origins, origin)
		}
	}
	if opts.AccessTokenTTL < 0 || opts.CodeTTL < 0 {
		return nil, errors.New("sandbox: token lifetimes must not be negative")
	}
	if opts.AccessTokenTTL == 0 {
		opts.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if opts.CodeTTL == 0 {
		opts.CodeTTL = DefaultCodeTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	s := &Server{
		clientID:     opts.ClientID,
		redirectURIs: slices.Clone(opts.RedirectURIs),
		now:          opts.Now,
		log:          opts.Logger,
		contentSecurityPolicy: "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
			"form-action " + strings.Join(origins, " ") + "; frame-ancestors 'none'; base-uri 'none'",
		store: mailstore.NewStore(opts.Now()),
	}
	var accounts []oauth.Account
	for _, address := range s.store.Accounts() {
		// Sign-in reads a mailbox for its names only, and they never change.
		box, _ := s.store.Seeded(address)
		accounts = append(accounts, oauth.Account{Address: box.Address, Name: box.Name, GivenName: box.GivenName, FamilyName: box.FamilyName})
	}
	provider, err := oauth.New(oauth.Config{
		ClientID:       opts.ClientID,
		ClientSecret:   opts.ClientSecret,
		RedirectURIs:   opts.RedirectURIs,
		AccessTokenTTL: opts.AccessTokenTTL,
		CodeTTL:        opts.CodeTTL,
		Now:            opts.Now,
		Logger:         opts.Logger,
		Strict:         opts.Strict,
		AutoApprove:    opts.AutoApprove,
		Accounts:       accounts,
		Pages:          signInPages{s},
	})
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	s.oauth = provider
	s.api = gmailapi.New(gmailapi.Config{Strict: opts.Strict, Now: opts.Now, Logger: opts.Logger, Store: s.store, Tokens: provider})
	s.handler = s.routes()
	return s, nil
}

// redirectOrigin checks that a registered redirect URI is one Google would
// accept (absolute http(s), no fragment) and returns its origin.
func redirectOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("scheme must be http or https")
	}
	if u.Host == "" {
		return "", errors.New("host is missing")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", errors.New("fragments are not allowed")
	}
	return u.Scheme + "://" + u.Host, nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveIndex)
	mux.HandleFunc("GET /sandbox.css", serveStatic("static/sandbox.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /favicon.ico", serveStatic("static/favicon.ico", "image/x-icon"))
	mux.HandleFunc("GET "+AuthPath, s.oauth.ServeAuthorize)
	mux.HandleFunc("POST "+AuthPath, s.oauth.ServeConsentDecision)
	mux.Handle(TokenPath, cors("POST", s.api.OverNetwork(http.HandlerFunc(s.oauth.ServeToken))))
	mux.Handle(RevokePath, s.api.OverNetwork(http.HandlerFunc(s.oauth.ServeRevoke)))
	mux.Handle(UserinfoPath, cors("GET, POST", http.HandlerFunc(s.oauth.ServeUserinfo)))
	mux.Handle(TokeninfoPath, cors("GET, POST", http.HandlerFunc(s.oauth.ServeTokeninfo)))
	mux.Handle("GET "+DiscoveryPath, cors("GET", http.HandlerFunc(s.oauth.ServeDiscovery)))
	mux.Handle("GET "+CertsPath, cors("GET", http.HandlerFunc(s.oauth.ServeCerts)))
	mux.Handle("GET "+PEMCertsPath, cors("GET", http.HandlerFunc(s.oauth.ServePEMCerts)))
	mux.HandleFunc("GET "+messagePagePattern, s.serveMessagePage)
	mux.HandleFunc(oauth.AvatarPattern, s.oauth.ServeAvatar)
	mux.HandleFunc("GET "+oauth.SignInPath, s.oauth.ServeSignIn)
	mux.HandleFunc("POST "+oauth.SignInPath, s.oauth.ServeSignInDecision)
	mux.Handle("/gmail/", cors(gmailapi.HTTPMethods, s.api.Gmail()))
	batch := cors("POST", s.api.Batch())
	mux.Handle(GmailBatchPath, batch)
	// The discovery document's batchPath is "batch", which clients built
	// from it use.
	mux.Handle("/batch", batch)
	mux.Handle("GET "+GmailDiscoveryPath, cors("GET", http.HandlerFunc(s.api.ServeDiscovery)))
	mux.Handle("GET "+gmailapi.DiscoveryPathV2, cors("GET", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("version") != "v1" {
			s.serveNotFoundPage(w, r)
			return
		}
		s.api.ServeDiscovery(w, r)
	})))
	mux.HandleFunc("/", s.serveNotFoundPage)
	return mux
}

// ServeHTTP serves every sandbox endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	header := w.Header()
	header.Set("Content-Security-Policy", s.contentSecurityPolicy)
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Referrer-Policy", "no-referrer")
	s.handler.ServeHTTP(w, r)
}

// SetLatency adds d to every request an app's server makes: the token and
// revocation endpoints, each Gmail API call, and a batch as a whole (its
// parts add none), as a network between the app and Google would. The pages
// a browser opens add none. Waiting stops early when the request is
// cancelled.
func (s *Server) SetLatency(d time.Duration) {
	s.api.SetLatency(d)
}

// SetAccessTokenTTL sets the lifetime of access tokens issued from now on.
func (s *Server) SetAccessTokenTTL(d time.Duration) {
	s.oauth.SetAccessTokenTTL(d)
}

// RevokeAccount revokes every access and refresh token of account, as if the
// person removed the app's access in their Google Account settings.
func (s *Server) RevokeAccount(account string) {
	s.oauth.RevokeAccount(account)
}

// IssueToken mints tokens for account without the consent page. With no
// scopes it grants GmailScope; "email" and "profile" stand for Google's full
// names of them. The tokens belong to the configured client, so
// the refresh token works at TokenPath. It counts as the account's grant, as a
// consent would: a later sign-in of the account skips the consent screen and
// gets no refresh token, unless it asks with prompt=consent. An account that
// is not seeded gets an empty mailbox.
func (s *Server) IssueToken(account string, scopes ...string) Token {
	return s.oauth.IssueToken(account, scopes...)
}

// Stats returns the counters since New or the last ResetStats.
func (s *Server) Stats() Stats {
	signIn, gmail := s.oauth.Stats(), s.api.Stats()
	return Stats{
		GmailCalls:    gmail.GmailCalls,
		BatchParts:    gmail.BatchParts,
		TokenCalls:    signIn.TokenCalls,
		RevokeCalls:   signIn.RevokeCalls,
		RefreshGrants: signIn.RefreshGrants,
		MaxInFlight:   gmail.MaxInFlight,
	}
}

// ResetStats zeroes the counters. MaxInFlight restarts from the number of
// Gmail requests in flight right now.
func (s *Server) ResetStats() {
	s.api.ResetStats()
	s.oauth.ResetStats()
}

// Accounts returns the seeded account addresses; the first is the default.
func (s *Server) Accounts() []string {
	return s.store.Accounts()
}

// UnreadCount is the number of messages a Gmail search for "is:unread"
// returns for account (spam and trash excluded, as Gmail does). Every unread
// message is also in INBOX, so labelIds=UNREAD and labelIds=INBOX&labelIds=UNREAD
// give the same count.
func (s *Server) UnreadCount(account string) int {
	return s.store.UnreadCount(account)
}
