package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// Limits on what a session holds. Every attempt costs about 150 bytes of
// cookie, and the cookie must stay under securecookie's 4096 bytes.
const (
	maxAttempts   = 3                // sign-ins in flight at once (tabs)
	attemptTTL    = 10 * time.Minute // how long a person may spend at Google
	sessionMaxAge = 7 * 24 * 3600    // seconds; a week without a visit signs out
	// sessionLifetime bounds a session from its sign-in, however often it
	// is used and refreshed, so a copied cookie does not work forever.
	sessionLifetime = 30 * 24 * time.Hour
	maxCookieBytes  = 4096
)

// sessionData is everything the app keeps about a browser, stored in one
// encrypted cookie. The server itself keeps nothing, so any number of
// instances sharing SESSION_KEYS can serve the same person.
type sessionData struct {
	Attempts []attempt  // pending sign-ins, oldest first
	Token    *authToken // nil when signed out
	Account  string     // the Gmail address, for the page and the cache key
	Notice   string     // catalogue key of a one-time message for the next index page
	SignedIn time.Time  // when Token was granted; sessionLifetime runs from here
	// Renewed is when a silent re-authorization brought a new token, kept
	// until the next inbox view: that view ends the request chain, and if
	// its token is due again it goes to the start page instead of trying
	// another silent attempt, so a browser can never bounce for ever.
	Renewed time.Time
}

// attempt is one sign-in started by /oauth, or one silent re-authorization
// started by a page, and finished by /callback.
type attempt struct {
	State    string
	Verifier string
	Started  time.Time
	// Silent marks a re-authorization the app started with prompt=none: if
	// Google answers anything but a code, the person goes to the start page
	// with a note, never to another attempt.
	Silent bool
	// Return is the app page to go back to after a silent attempt, made by
	// the app from a validated inbox URL, never copied from a request.
	Return string
	// Account is the address a silent attempt renews: its answer is judged
	// against it, not against whoever the session holds when it comes back.
	Account string
}

// authToken is the part of an OAuth token worth keeping; the token type is
// always Bearer with Google.
type authToken struct {
	Access  string
	Refresh string
	Expiry  time.Time
}

// sessionStore wraps the cookie store so handlers deal only in sessionData.
// The cookie holds sessionData as JSON, sealed by securecookie.
type sessionStore struct {
	store *sessions.CookieStore // its Options, and its codecs made JSON
	name  string
	site  string // the site cookie's name (fromOwnPages)
	now   func() time.Time
}

// newSessionStore builds an encrypted cookie store from key pairs, newest
// first; older pairs still decode, which is how keys rotate without signing
// everyone out.
func newSessionStore(keyPairs [][]byte, secure bool, now func() time.Time) (*sessionStore, error) {
	if len(keyPairs) == 0 || len(keyPairs)%2 != 0 {
		return nil, errors.New("session keys: want hash,encryption pairs")
	}
	for i := 1; i < len(keyPairs); i += 2 {
		if len(keyPairs[i]) != 32 {
			return nil, fmt.Errorf("session keys: encryption key %d is %d bytes; want 32 (AES-256)", i/2+1, len(keyPairs[i]))
		}
	}
	store := sessions.NewCookieStore(keyPairs...)
	// gorilla/sessions ≥ 1.3 defaults to SameSite=None, Secure and no
	// HttpOnly; every attribute is set here on purpose. Lax, not Strict:
	// Strict would drop the cookie on the redirect back from Google, where
	// the callback needs it; the site cookie is the Strict one.
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   sessionMaxAge,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	for _, codec := range store.Codecs {
		if sc, ok := codec.(*securecookie.SecureCookie); ok {
			sc.MaxAge(sessionMaxAge)
			sc.MaxLength(maxCookieBytes)
			sc.SetSerializer(securecookie.JSONEncoder{})
		}
	}
	// The __Host- prefix makes the browser refuse the cookie unless it is
	// Secure, host-only and Path=/; it is only allowed over https.
	name, site := "gmail_session", "gmail_site"
	if secure {
		name, site = "__Host-gmail_session", "__Host-gmail_site"
	}
	return &sessionStore{store: store, name: name, site: site, now: now}, nil
}

// The site cookie says nothing but that a request began on the app's own
// pages: it is SameSite=Strict, so a browser sends it on a link followed,
// or a form sent, from the app, or a URL typed, and never on a request
// another site started. The inbox shows mail only to a request with it.
// Otherwise another site could make a signed-in browser load the inbox
// again and again beside a mail of its own, and read the gzipped sizes
// off the wire: a compression oracle on the rest of the mail
// (docs/security.md).

// fromOwnPages reports whether r carries the site cookie.
func (s *sessionStore) fromOwnPages(r *http.Request) bool {
	_, err := r.Cookie(s.site)
	return err == nil
}

// markOwnPages sets the site cookie, for as long as a session lasts.
func (s *sessionStore) markOwnPages(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: s.site, Value: "1", Path: "/", MaxAge: sessionMaxAge,
		HttpOnly: true, Secure: s.store.Options.Secure, SameSite: http.SameSiteStrictMode,
	})
}

// load returns the browser's session. A cookie that does not decode (forged,
// tampered, or sealed with a key since retired) is treated as no session:
// the person simply starts again. rewrite reports that the cookie should be
// written again: it was rejected, or it was sealed with an older key pair,
// and re-sealing it with the newest lets the old pair be retired without
// signing anyone out who visits in between. A session past its
// sessionLifetime comes back signed out, with a notice saying why.
func (s *sessionStore) load(r *http.Request) (data sessionData, rewrite bool) {
	cookie, err := r.Cookie(s.name)
	if err != nil {
		return sessionData{}, false
	}
	// The newest key pair first: a cookie it opens is decoded once and
	// needs no rewrite.
	if err := s.store.Codecs[0].Decode(s.name, cookie.Value, &data); err != nil {
		if err := securecookie.DecodeMulti(s.name, cookie.Value, &data, s.store.Codecs[1:]...); err != nil {
			return sessionData{}, true
		}
		rewrite = true
	}
	if data.Token != nil && s.now().Sub(data.SignedIn) > sessionLifetime {
		data.signOut(noticeLifetime)
		rewrite = true
	}
	return data, rewrite
}

// errSessionTooLarge reports a session that no longer fits in a cookie.
var errSessionTooLarge = errors.New("session does not fit in a 4096-byte cookie")

// save writes data to the response as the session cookie.
func (s *sessionStore) save(w http.ResponseWriter, r *http.Request, data sessionData) error {
	encoded, err := securecookie.EncodeMulti(s.name, data, s.store.Codecs...)
	if err != nil {
		var scErr securecookie.Error
		if errors.As(err, &scErr) && scErr.IsUsage() {
			return fmt.Errorf("save session: %w: %v", errSessionTooLarge, err)
		}
		return fmt.Errorf("save session: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(s.name, encoded, s.store.Options))
	return nil
}

// clear deletes the session cookie.
func (s *sessionStore) clear(w http.ResponseWriter) {
	opts := *s.store.Options
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(s.name, "", &opts))
}

// addAttempt records a new sign-in, dropping expired ones and the oldest
// beyond maxAttempts so the cookie stays small. Silent attempts are kept
// as the others are: two tabs may renew at once, each returning to its own
// page.
func (d *sessionData) addAttempt(a attempt, now time.Time) {
	d.pruneAttempts(now)
	d.Attempts = append(d.Attempts, a)
	if len(d.Attempts) > maxAttempts {
		d.Attempts = d.Attempts[len(d.Attempts)-maxAttempts:]
	}
}

// takeAttempt removes and returns the pending attempt whose state matches.
// The attempt is gone whatever the caller does next, so a state is good for
// one callback only. Every candidate is compared in constant time so the
// comparison leaks nothing about the stored states.
func (d *sessionData) takeAttempt(state string, now time.Time) (attempt, bool) {
	d.pruneAttempts(now)
	found := -1
	for i, a := range d.Attempts {
		if subtle.ConstantTimeCompare([]byte(a.State), []byte(state)) == 1 {
			found = i
		}
	}
	if found < 0 || state == "" {
		return attempt{}, false
	}
	a := d.Attempts[found]
	d.Attempts = append(d.Attempts[:found:found], d.Attempts[found+1:]...)
	return a, true
}

func (d *sessionData) pruneAttempts(now time.Time) {
	d.Attempts = slices.DeleteFunc(d.Attempts, func(a attempt) bool {
		return now.Sub(a.Started) > attemptTTL || a.Started.After(now.Add(time.Minute))
	})
}

// signIn keeps the token and account of a sign-in finished at now.
func (d *sessionData) signIn(tok *authToken, account string, now time.Time) {
	d.Token = tok
	d.Account = account
	d.Notice = ""
	d.SignedIn = now
}

// renew keeps the token and account a silent re-authorization brought at
// now. The session's absolute lifetime keeps running from the sign-in the
// person made; the mark ends the request chain (endRenewalChain).
func (d *sessionData) renew(tok *authToken, account string, now time.Time) {
	signedIn := d.SignedIn
	d.signIn(tok, account, now)
	d.SignedIn, d.Renewed = signedIn, now
}

// holds reports whether the session is still signed in as account, as it
// was when a silent attempt for account started.
func (d *sessionData) holds(account string) bool {
	return d.Token != nil && strings.EqualFold(d.Account, account)
}

// signOut forgets the token, keeping pending attempts of other tabs; notice
// is the catalogue key of what the start page tells the person.
func (d *sessionData) signOut(notice string) {
	d.Token = nil
	d.Account = ""
	d.SignedIn = time.Time{}
	d.Notice = notice
}

// refreshMargin is how long before its expiry a token counts as due: a
// token checked just before would otherwise expire on its way to Gmail.
const refreshMargin = 10 * time.Second

// due reports whether the token is expired, or will be within
// refreshMargin, at now, on the app's clock: then it is refreshed, or
// renewed, before it is used.
func (t *authToken) due(now time.Time) bool {
	return !t.Expiry.IsZero() && !now.Before(t.Expiry.Add(-refreshMargin))
}

// mustRenew reports whether the token is due and cannot be refreshed
// (Google gave no refresh token): only a silent re-authorization brings
// another (startRenewal).
func (t *authToken) mustRenew(now time.Time) bool {
	return t.Refresh == "" && t.due(now)
}

// inboxState is what a view of the inbox may change in the session, to
// tell whether it must be written back.
type inboxState struct {
	token   authToken
	account string
	renewed time.Time
}

func (d *sessionData) inboxState() inboxState {
	return inboxState{token: *d.Token, account: d.Account, renewed: d.Renewed}
}

// endRenewalChain is called by each view of the inbox: a view right after
// a silent re-authorization ends its request chain, and reports so, so
// that a token due again then goes to the start page instead of another
// silent attempt (startRenewal).
func (d *sessionData) endRenewalChain(now time.Time) (chained bool) {
	chained = !d.Renewed.IsZero() && now.Sub(d.Renewed) < maxRenewalChain
	d.Renewed = time.Time{}
	return chained
}
