package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Bounds on values strangers put in the callback URL. Google's codes and
// our states are far shorter; anything longer is refused before use.
const (
	maxStateLen = 128
	maxCodeLen  = 2048
)

// handleOAuth serves GET /oauth: it starts a sign-in. Each attempt gets its
// own state and PKCE verifier, kept in the session under that state, so two
// tabs can sign in at once without one breaking the other.
func (s *Server) handleOAuth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := s.sessions.load(r)
		s.sendToGoogle(w, r, data, newAttempt(s.now()))
	})
}

// newAttempt starts a sign-in at now with a fresh state and PKCE verifier.
func newAttempt(now time.Time) attempt {
	return attempt{State: newState(), Verifier: oauth2.GenerateVerifier(), Started: now}
}

// sendToGoogle keeps attempt a in the session and sends the person to
// Google's authorization page for it: offline access, the PKCE challenge
// of a's verifier, and any further options.
func (s *Server) sendToGoogle(w http.ResponseWriter, r *http.Request, data sessionData, a attempt, options ...oauth2.AuthCodeOption) {
	data.addAttempt(a, a.Started)
	if !s.saveSession(w, r, data) {
		return
	}
	options = append(options, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(a.Verifier))
	http.Redirect(w, r, s.oauth.AuthCodeURL(a.State, options...), http.StatusFound)
}

// newState returns 256 bits from crypto/rand, URL-safe.
func newState() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// signInError is how a sign-in or a silent re-authorization that came
// back from Google failed. Its value names it in the metrics.
type signInError string

const (
	errDeclined     signInError = "declined"      // the person said no at Google
	errBadState     signInError = "badState"      // no pending attempt of the state
	errStale        signInError = "stale"         // a renewal for a session that has moved on
	errBadRequest   signInError = "badRequest"    // neither an error nor a code
	errRefused      signInError = "signInRefused" // Google answered an error, or refused the client
	errOtherAccount signInError = "otherAccount"  // a renewal came back for another account
	errCodeRejected signInError = "codeRejected"  // the code was refused (invalid_grant)
	errScopeMissing signInError = "scopeMissing"  // the person unticked Gmail
	errGoogleDown   signInError = "googleDown"    // Google or Gmail did not answer
)

func (e signInError) Error() string { return "sign-in: " + string(e) }

// problem is the page that tells the person about e.
func (e signInError) problem() problem {
	switch e {
	case errBadState:
		return problemBadState
	case errBadRequest:
		return problemBadRequest
	case errCodeRejected:
		return problemCodeRejected
	case errScopeMissing:
		return problemScopeMissing
	case errGoogleDown:
		return problemGoogleDown
	}
	return problemSignInRefused
}

// outcome names how a callback ended, for the metrics.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var e signInError
	errors.As(err, &e)
	return string(e)
}

// handleCallback serves GET /callback, where Google sends the person back.
// The pending attempt is taken out of the session before anything else and
// the state compared before any exchange: a forged, missing or replayed
// state never leads to a token request.
func (s *Server) handleCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil || len(r.URL.RawQuery) > 4*maxCodeLen {
			s.renderProblem(w, r, problemBadRequest)
			return
		}
		// A repeated state or code is no redirect Google sends; refusing it
		// leaves no doubt which value was checked and which exchanged.
		if len(query["state"]) > 1 || len(query["code"]) > 1 ||
			len(query.Get("state")) > maxStateLen || len(query.Get("code")) > maxCodeLen {
			s.renderProblem(w, r, problemBadRequest)
			return
		}

		data, _ := s.sessions.load(r)
		pending, ok := data.takeAttempt(query.Get("state"), s.now())
		if !ok && data.Token != nil {
			// The browser is signed in, but its cookie holds no attempt of
			// this state: two tabs that started a sign-in or a renewal at
			// the same moment sent the same cookie, and the browser kept
			// the other's. The person is signed in, which is what they came
			// for. The code is not used: its state cannot be checked.
			s.log.Info("callback with unknown state, already signed in")
			if data.Token.mustRenew(s.now()) {
				// The other tab's renewal has not come back yet: renew for
				// this one too, which ends on the inbox by continueTo.
				s.startRenewal(w, r, data, "/home", false)
				return
			}
			http.Redirect(w, r, "/home", http.StatusSeeOther)
			return
		}
		switch {
		case !ok:
			s.log.Warn("callback with unknown state", "has_state", query.Get("state") != "")
			err = errBadState
		case pending.Silent && !data.holds(pending.Account):
			// A renewal that comes back after another tab signed in as
			// someone else, or signed out: the session is no longer the
			// one it was for. Its code is not exchanged, so no token is
			// minted that would then have to be dropped or revoked, and
			// the session stays as the later tab left it.
			s.log.Info("silent re-authorization came back to a session that has moved on")
			err = errStale
		default:
			err = s.finishSignIn(r.Context(), &data, query, pending)
		}
		if pending.Silent {
			s.metrics.SilentRenewal(outcome(err))
		} else {
			s.metrics.SignIn(outcome(err))
		}
		destination, failure := s.landing(&data, pending, err)
		// One cookie, written whatever the outcome: the attempt it used is
		// gone for good, so a state works for one callback only.
		if !s.saveSession(w, r, data) {
			return
		}
		switch {
		case failure != nil:
			var e signInError
			errors.As(failure, &e)
			s.renderProblem(w, r, e.problem())
		case destination == "/":
			http.Redirect(w, r, destination, http.StatusSeeOther)
		default:
			s.continueTo(w, r, data, destination)
		}
	})
}

// landing is where a callback that ended with err (nil for a sign-in or
// renewal that went through) sends the person, or the error whose page it
// shows. A person who said no at Google is told so on the start page, at a
// clean address: Google's error and the state stay out of the address bar
// and the history. A renewal goes back to the page it was started from;
// one that Google refused (login_required, consent_required,
// interaction_required, or a refused code) signs out, with a note on the
// start page. Only when Google did not answer is it a page, the stored
// token kept for the next try.
func (s *Server) landing(data *sessionData, pending attempt, err error) (string, error) {
	switch {
	case err == nil && pending.Silent:
		return safeReturn(pending.Return), nil
	case err == nil, err == errStale:
		return "/home", nil
	case pending.Silent && err != errGoogleDown:
		s.log.Info("silent re-authorization failed", "err", err)
		data.signOut(noticeExpired)
		return "/", nil
	case err == errDeclined:
		data.Notice = noticeDeclined
		return "/", nil
	}
	return "", err
}

// finishSignIn goes on with a callback whose state named a pending attempt:
// Google's error, or the code exchanged with the attempt's verifier, the
// grant checked, and the token kept in data. It returns how the sign-in
// failed, a signInError, or nil.
//
// A first sign-in leaves the question whose mailbox this is to the inbox,
// which asks Gmail beside its list (gmail.Client.Unread), so the person
// waits one round trip less. Two cases must know the account now, before
// the token goes into the session. A silent re-authorization must come back
// for the account it was started for: login_hint is only a hint, and a
// token of another account kept under this one's name would show that
// account's mail as this one's. And a sign-in that replaces another
// account's hands that account's grant back, or a copy of the old cookie
// would still read its mail after the person signed out.
func (s *Server) finishSignIn(ctx context.Context, data *sessionData, query url.Values, pending attempt) error {
	if e := query.Get("error"); e != "" {
		if e == "access_denied" {
			return errDeclined
		}
		if pending.Silent { // expected: Google says so whenever it cannot renew without a page
			s.log.Info("silent re-authorization refused", "error", clip(e, 64))
		} else {
			s.log.Warn("authorization refused", "error", clip(e, 64))
		}
		return errRefused
	}
	code := query.Get("code")
	if code == "" {
		return errBadRequest
	}

	ctx, cancel := context.WithTimeout(s.oauthContext(ctx), s.pageTimeout)
	defer cancel()
	exchanged, err := s.oauth.Exchange(ctx, code, oauth2.VerifierOption(pending.Verifier))
	if err != nil {
		return s.exchangeFailed(err)
	}
	tok := s.authToken(exchanged, "")
	if !grants(exchanged, GmailScope) {
		// The person unticked Gmail on Google's consent screen. The token
		// is useless to us, so hand it back rather than keep it.
		s.revoke(ctx, tok) // a failure is logged; the page is about the scope
		return errScopeMissing
	}
	account := ""
	if pending.Silent || data.Token != nil {
		account, err = s.account(ctx, tok)
		switch {
		case pending.Silent && err != nil:
			return errGoogleDown
		case pending.Silent && pending.Account != "" && !strings.EqualFold(account, pending.Account):
			// An empty Account is a sign-in whose Gmail lookup failed: there
			// is no name on the page to contradict, so the renewal names it.
			// The other account's token was never asked for: hand it back.
			s.log.Warn("silent re-authorization answered for another account")
			s.revoke(ctx, tok) // a failure is logged; the page is the same
			return errOtherAccount
		case !pending.Silent && err == nil && data.Account != "" && !strings.EqualFold(account, data.Account):
			// The same account's grant is the new token's too: revoking it
			// would end both, so only another account's is handed back.
			s.log.Info("sign-in replaces another account's")
			s.revoke(ctx, data.Token) // a failure is logged; the new sign-in goes on
		}
	}
	if pending.Silent {
		data.renew(tok, account, s.now())
	} else {
		data.signIn(tok, account, s.now())
	}
	s.log.Info("signed in", "silent", pending.Silent)
	return nil
}

// Silent re-authorization: when the stored access token is due and there is
// no refresh token (Google gives one only with the first grant), the app
// asks Google again with prompt=none. Google answers at once, without a
// page, for a scope the account has granted; the person sees one redirect
// bounce and lands on the page they asked for.
const (
	// maxRenewalChain is how long the redirect back from a silent
	// re-authorization may take to reach the inbox and still count as the
	// same request chain; a mark older than that is stale.
	maxRenewalChain = time.Minute
	// maxReturnLen bounds the page remembered in the cookie.
	maxReturnLen = 512
)

// startRenewal sends the person to Google for a silent re-authorization
// that comes back to returnTo, or, when this request is the end of one
// (chained), to the start page with a note. At most one silent attempt per
// request chain, and every one ends on the start page unless Google answers
// with a code: no loop.
func (s *Server) startRenewal(w http.ResponseWriter, r *http.Request, data sessionData, returnTo string, chained bool) {
	if chained {
		s.log.Warn("token due again right after a silent re-authorization")
		s.signInAgain(w, r, data)
		return
	}
	next := newAttempt(s.now())
	next.Silent, next.Return, next.Account = true, returnTo, data.Account
	options := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "none")}
	if data.Account != "" {
		options = append(options, oauth2.SetAuthURLParam("login_hint", data.Account))
	}
	s.log.Info("silent re-authorization")
	s.sendToGoogle(w, r, data, next, options...)
}

// safeReturn checks a remembered page once more before redirecting to it:
// only the inbox, with paging values the inbox accepts; anything else is
// the newest inbox page.
func safeReturn(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path != "/home" {
		return "/home"
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "/home"
	}
	p, ok := parsePaging(query)
	if !ok {
		return "/home"
	}
	return p.link()
}

// exchangeFailed maps a failed code exchange to a page.
func (s *Server) exchangeFailed(err error) error {
	var retrieve *oauth2.RetrieveError
	if errors.As(err, &retrieve) {
		// Only the RFC 6749 error code is logged: the body is Google's and
		// the request held the code.
		s.log.Warn("code exchange refused", "error", retrieve.ErrorCode, "status", retrieve.Response.StatusCode)
		if retrieve.ErrorCode == "invalid_grant" {
			return errCodeRejected
		}
		return errRefused
	}
	s.log.Warn("code exchange failed", "err", errors.Unwrap(err))
	return errGoogleDown
}

// grants reports whether the token's granted scopes include scope. Google
// lets people untick scopes, so the grant may be narrower than the request.
// RFC 6749 §5.1: an absent scope means the requested scopes were granted.
func grants(tok *oauth2.Token, scope string) bool {
	granted, _ := tok.Extra("scope").(string)
	if granted == "" {
		return true
	}
	return slices.Contains(strings.Fields(granted), scope)
}

// account asks Gmail whose mailbox tok reads, for the sign-ins that must
// know before keeping it (finishSignIn). It returns the token as it is
// after the call, refreshed if it was about to expire.
func (s *Server) account(ctx context.Context, tok *authToken) (string, error) {
	profile, err := s.gmailAs(tok.Access, "").Profile(ctx)
	if err != nil {
		s.log.Warn("gmail profile", "err", err)
		return "", err
	}
	return profile.EmailAddress, nil
}

// handleLogout serves POST /logout: revoke the token at Google, forget the
// session, back to the start, which says the person is signed out. The
// person is signed out here whatever Google says; when the revocation
// failed, a page says so instead and links to Google's page where they can
// remove the app's access themselves.
func (s *Server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := s.sessions.load(r)
		var revokeErr error
		if data.Token != nil {
			ctx, cancel := context.WithTimeout(s.oauthContext(r.Context()), 5*time.Second)
			revokeErr = s.revoke(ctx, data.Token)
			cancel()
			s.log.Info("signed out", "revoked", revokeErr == nil)
		}
		if revokeErr != nil {
			s.sessions.clear(w)
			s.showProblem(w, r, problemRevokeFailed, "/", sessionData{})
			return
		}
		// A new session holding only the start page's notice, as a declined
		// sign-in leaves one.
		if !s.saveSession(w, r, sessionData{Notice: noticeSignedOut}) {
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
}

// revoke asks Google to revoke the grant behind tok. Revoking the refresh
// token ends the whole grant, access tokens included. It returns an error
// when the grant may still stand; a token Google no longer knows
// (invalid_token: expired, or already revoked) has no grant left to end.
func (s *Server) revoke(ctx context.Context, tok *authToken) error {
	if s.revokeURL == "" {
		return nil
	}
	value := cmp.Or(tok.Refresh, tok.Access)
	form := url.Values{"token": {value}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.revokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		s.log.Warn("revoke", "err", err)
		return fmt.Errorf("revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.httpClient.Do(req)
	if err != nil {
		s.log.Warn("revoke", "err", errors.Unwrap(err))
		return fmt.Errorf("revoke: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var body struct {
		Error string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 4<<10)).Decode(&body)
	if resp.StatusCode == http.StatusBadRequest && body.Error == "invalid_token" {
		return nil
	}
	s.log.Warn("revoke", "status", resp.StatusCode, "error", clip(body.Error, 64))
	return fmt.Errorf("revoke: status %d %s", resp.StatusCode, clip(body.Error, 64))
}

// saveSession writes the session cookie, or an error page when it cannot,
// and reports whether the handler may go on.
func (s *Server) saveSession(w http.ResponseWriter, r *http.Request, data sessionData) bool {
	if err := s.sessions.save(w, r, data); err != nil {
		s.log.Error("session", "err", err)
		s.renderProblem(w, r, problemInternal)
		return false
	}
	return true
}

// clip bounds a stranger's value before it reaches a log line.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
