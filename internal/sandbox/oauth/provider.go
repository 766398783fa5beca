package oauth

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Paths of the sign-in endpoints, relative to the sandbox's base URL, as
// Google serves them.
const (
	AuthPath      = "/o/oauth2/v2/auth"
	TokenPath     = "/token"
	RevokePath    = "/revoke"
	UserinfoPath  = "/oauth2/v3/userinfo"
	DiscoveryPath = "/.well-known/openid-configuration"
	CertsPath     = "/oauth2/v3/certs"
	PEMCertsPath  = "/oauth2/v1/certs" // the same key in X.509 certificates, which some of Google's libraries read
	TokeninfoPath = "/tokeninfo"
)

// Config is what a Provider needs, checked and defaulted by the sandbox.
type Config struct {
	ClientID, ClientSecret string
	RedirectURIs           []string
	AccessTokenTTL         time.Duration
	CodeTTL                time.Duration
	Now                    func() time.Time
	Logger                 *slog.Logger
	Strict                 bool
	// AutoApprove, one of Accounts (any case) or "", answers every
	// authorization request but prompt=none for that account.
	AutoApprove string
	// Accounts are the seeded accounts, the first the default.
	Accounts []Account
	Pages    Pages
}

// Account is what sign-in knows of a seeded account: its address and the
// names its ID token, userinfo and avatar show.
type Account struct {
	Address, Name, GivenName, FamilyName string
}

// Pages draws what a person sees during sign-in; the sandbox draws them
// with the rest of its pages, in the browser's language.
type Pages interface {
	// Consent shows the consent page (or the account chooser alone).
	Consent(w http.ResponseWriter, r *http.Request, consent Consent)
	// SignIn shows the account chooser that signs the browser in and
	// goes on to next, a path on the sandbox.
	SignIn(w http.ResponseWriter, r *http.Request, next string)
	// Error shows Google's error page with status.
	Error(w http.ResponseWriter, status int, page ErrorPage)
	// NotFound is the page for a path nothing serves.
	NotFound(w http.ResponseWriter, r *http.Request)
}

// Consent is a pending authorization request, as its page shows it.
type Consent struct {
	ID          string // the form's consent_id
	RedirectURI string
	Offline     bool
	// Chooser is the account chooser alone: the scopes were granted
	// before, so Google does not ask for them again.
	Chooser bool
	Scopes  []string
	// Selected is the account to preselect: the login_hint, or the one
	// the browser is signed in to, or "".
	Selected string
}

// ErrorPage is an error as Google's "Access blocked" pages show it.
type ErrorPage struct {
	Code    string
	Message string
	Detail  string
}

// Stats counts the sign-in traffic a Provider has served.
type Stats struct {
	TokenCalls    int64 // requests to TokenPath, successful or not
	RevokeCalls   int64 // requests to RevokePath, successful or not
	RefreshGrants int64 // authenticated token requests with grant_type=refresh_token
}

// Provider is Google's sign-in: the authorization endpoint with its
// consent page, the token, revocation, userinfo and tokeninfo endpoints,
// OpenID Connect, and the browser's Google session. It is safe for
// concurrent use.
type Provider struct {
	clientID     string
	clientSecret string
	redirectURIs []string
	codeTTL      time.Duration
	strict       bool
	autoApprove  string
	now          func() time.Time
	log          *slog.Logger
	accounts     []Account
	pages        Pages
	// sessionKey authenticates the sandbox Google session cookie
	// (sessionMAC), so a browser cannot claim to be signed in to an account.
	sessionKey []byte

	tokens tokenStore
	signer signingKey // of ID tokens

	tokenCalls, revokeCalls, refreshGrants atomic.Int64
}

// New returns a Provider for config, which the sandbox has checked; an
// AutoApprove that is not an account is the only error.
func New(config Config) (*Provider, error) {
	p := &Provider{
		clientID:     config.ClientID,
		clientSecret: config.ClientSecret,
		redirectURIs: slices.Clone(config.RedirectURIs),
		codeTTL:      config.CodeTTL,
		strict:       config.Strict,
		now:          config.Now,
		log:          config.Logger,
		accounts:     slices.Clone(config.Accounts),
		pages:        config.Pages,
		sessionKey:   make([]byte, 32),
	}
	// crypto/rand.Read never returns an error since Go 1.24.
	rand.Read(p.sessionKey)
	p.tokens.init(config.AccessTokenTTL)
	if config.AutoApprove != "" {
		account, seeded := p.seededAccount(config.AutoApprove)
		if !seeded {
			addresses := make([]string, len(p.accounts))
			for i, account := range p.accounts {
				addresses[i] = account.Address
			}
			return nil, fmt.Errorf("auto-approve account %q is not one of the seeded accounts (%s)", config.AutoApprove, strings.Join(addresses, ", "))
		}
		p.autoApprove = account
	}
	return p, nil
}

// seededAccount returns the seeded account address matches, ignoring case.
func (p *Provider) seededAccount(address string) (string, bool) {
	account, ok := p.account(address)
	return account.Address, ok
}

// account returns the seeded account address names, ignoring case.
func (p *Provider) account(address string) (Account, bool) {
	for _, account := range p.accounts {
		if strings.EqualFold(account.Address, address) {
			return account, true
		}
	}
	return Account{}, false
}

// Token is a set of credentials minted by IssueToken.
type Token struct {
	AccessToken, RefreshToken string
	Expiry                    time.Time
	Scope                     string
}

// IssueToken mints tokens for account without the consent page. With no
// scopes it grants GmailScope; "email" and "profile" stand for Google's
// full names of them. The tokens belong to the configured client, so the
// refresh token works at TokenPath. It counts as the account's grant, as a
// consent would: a later sign-in of the account skips the consent screen
// and gets no refresh token, unless it asks with prompt=consent.
func (p *Provider) IssueToken(account string, scopes ...string) Token {
	if len(scopes) == 0 {
		scopes = []string{GmailScope}
	}
	scopes = slices.Clone(scopes)
	for i, scope := range scopes {
		if full, ok := scopeAliases[scope]; ok {
			scopes[i] = full
		}
	}
	return p.tokens.issue(grantRequest{
		account:  account,
		clientID: p.clientID,
		scopes:   scopes,
		offline:  true,
	}, p.now())
}

// SetAccessTokenTTL sets the lifetime of access tokens issued from now on.
func (p *Provider) SetAccessTokenTTL(d time.Duration) {
	p.tokens.setAccessTTL(d)
}

// RevokeAccount revokes every access and refresh token of account, as if
// the person removed the app's access in their Google Account settings.
func (p *Provider) RevokeAccount(account string) {
	p.tokens.revokeAccount(account)
	p.log.Info("sandbox: account revoked", "account", account)
}

// Bearer is what a live access token entitles its holder to.
type Bearer struct {
	Account string
	Scopes  []string
	expiry  time.Time
	offline bool // its grant has a refresh token
}

// LookupAccess returns what the access token stands for, if it is live:
// the one way the Gmail API reads the token store.
func (p *Provider) LookupAccess(token string) (Bearer, bool) {
	return p.tokens.lookupAccess(token, p.now())
}

// Stats returns the counters since New or the last ResetStats.
func (p *Provider) Stats() Stats {
	return Stats{
		TokenCalls:    p.tokenCalls.Load(),
		RevokeCalls:   p.revokeCalls.Load(),
		RefreshGrants: p.refreshGrants.Load(),
	}
}

// ResetStats zeroes the counters.
func (p *Provider) ResetStats() {
	p.tokenCalls.Store(0)
	p.revokeCalls.Store(0)
	p.refreshGrants.Store(0)
}
