package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"gmailoauth/internal/gmail"
)

// pageSize is how many unread messages one inbox page shows.
const pageSize = 50

// inboxData is the template data of the inbox page.
type inboxData struct {
	layoutData
	List       template.HTML // the messages' rows, rendered by the "list" template; "" for none
	Estimate   int           // Gmail's resultSizeEstimate: "about N unread"
	PageNumber int           // 1 for the newest page
	Older      string        // link to the next (older) page, or ""
	Newer      string        // link to the previous (newer) page, or ""
	Failed     int           // messages whose details could not be fetched
}

// handleHome serves GET /home: the signed-in person's unread messages, 50 a
// page. A refreshed access token is written back into the session, whatever
// happens to the Gmail call after it. A token that is due and cannot be
// refreshed (Google gave no refresh token) is renewed by a silent
// re-authorization that comes back to this same page.
func (s *Server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, rewrite := s.sessions.load(r)
		// A request another site started gets the start page, which
		// offers the way in, and no mail (fromOwnPages).
		if data.Token == nil || !s.sessions.fromOwnPages(r) {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		paging, ok := parsePaging(r.URL.Query())
		if !ok {
			s.renderProblem(w, r, problemBadRequest)
			return
		}
		// A view right after a silent re-authorization ends its chain.
		chained := !data.Renewed.IsZero() && s.now().Sub(data.Renewed) < maxRenewalChain
		if !data.Renewed.IsZero() {
			data.Renewed = time.Time{}
			rewrite = true
		}
		if data.Token.Refresh == "" && data.Token.due(s.now()) {
			s.startRenewal(w, r, data, paging.link(), chained)
			return
		}

		if wait, ok := s.views.take(sessionKey(data), s.now()); !ok {
			p := problemTooFast
			p.retryAfter = wait
			if rewrite && !s.saveSession(w, r, data) {
				return
			}
			s.renderProblem(w, r, p)
			return
		}

		ctx, cancel := context.WithTimeout(r.Context(), s.pageTimeout)
		defer cancel()
		// The app's clock decides when a token is due, not the time.Now
		// inside golang.org/x/oauth2: an expiry long past makes it refresh
		// now, none makes it use the token as it is.
		tok := data.Token.oauthToken()
		tok.Expiry = time.Time{}
		if data.Token.due(s.now()) {
			tok.Expiry = time.Unix(1, 0)
		}
		client, source := s.gmailFor(ctx, tok, data.Account)
		unread, err := client.Unread(ctx, paging.token, pageSize)

		if updated, changed := data.Token.updatedBy(s.stamped(source.latest())); changed {
			data.Token = updated
			rewrite = true
			s.metrics.Refresh("ok")
		}
		// The first view after a sign-in learns whose mailbox it is beside
		// the list; a view whose profile call failed leaves it for the next.
		if data.Account == "" && unread.Account != "" {
			data.Account = unread.Account
			rewrite = true
			// The view was let through on the sign-in's own count; it
			// counts toward the account's too, so that signing in again
			// buys this one view, not a fresh burst.
			s.views.take(sessionKey(data), s.now())
		}
		if err != nil {
			s.gmailFailed(w, r, data, rewrite, err)
			return
		}
		if rewrite && !s.saveSession(w, r, data) {
			return
		}
		view := inboxData{
			layoutData: s.layout(r, "inbox.title", data),
			Estimate:   unread.ResultSizeEstimate,
			PageNumber: paging.number(),
			Older:      paging.olderLink(unread.NextPageToken),
			Newer:      paging.newerLink(),
		}
		list, failed, err := s.list(data.Account, unread.Messages, s.now().In(s.location), view.Lang)
		if err != nil {
			s.renderFailed(w, r, s.pages.list, err)
			return
		}
		view.Failed = failed
		if list.signature == "" {
			view.List = list.html
			s.render(w, r, http.StatusOK, s.pages.inbox, view)
			return
		}
		kept, err := s.inboxPage(data.Account, unread.Messages[0].ID, view, list)
		if err != nil {
			s.renderFailed(w, r, s.pages.inbox, err)
			return
		}
		writePage(w, r, http.StatusOK, kept)
	})
}

// gmailFailed turns a failed Gmail call into what the person sees. It is
// the one place where Gmail's errors become statuses and pages. rewrite
// says the session changed (a refreshed token) and must be saved with the
// page.
func (s *Server) gmailFailed(w http.ResponseWriter, r *http.Request, data sessionData, rewrite bool, err error) {
	show := func(p problem) {
		if rewrite && !s.saveSession(w, r, data) {
			return
		}
		s.showProblem(w, r, p, data)
	}
	var retrieve *oauth2.RetrieveError
	switch {
	case errors.As(err, &retrieve):
		// The refresh failed. invalid_grant means the grant is gone
		// (revoked, or a Testing app's week is up); a 5xx is Google being
		// down; any other refusal is the app's client being refused.
		s.log.Warn("token refresh failed", "error", retrieve.ErrorCode, "status", retrieve.Response.StatusCode)
		switch {
		case retrieve.ErrorCode == "invalid_grant":
			s.metrics.Refresh("grantGone")
			s.signInAgain(w, r, data)
		case retrieve.Response.StatusCode >= 500:
			s.metrics.Refresh(outcome(&problemGoogleDown))
			show(problemGoogleDown)
		default:
			s.metrics.Refresh(outcome(&problemRenewalRefused))
			show(problemRenewalRefused)
		}
	case errors.Is(err, gmail.ErrUnauthorized):
		s.log.Info("gmail refused the token")
		s.signInAgain(w, r, data)
	case errors.Is(err, gmail.ErrForbidden):
		s.log.Warn("gmail forbidden", "err", err)
		show(problemForbidden)
	case errors.Is(err, gmail.ErrBadRequest):
		// Gmail refused the request itself: with a well-formed URL that is a
		// page token that is stale or not Gmail's.
		s.log.Warn("gmail refused the request", "err", err)
		show(problemStalePage)
	case errors.Is(err, gmail.ErrRateLimited):
		s.log.Warn("gmail rate limited", "err", err)
		p := problemRateLimited
		p.retryAfter = max(gmail.RetryAfter(err), 5*time.Second)
		show(p)
	default:
		s.log.Warn("gmail failed", "err", err)
		show(problemGmailDown)
	}
}

// signInAgain drops a token Google no longer honours and sends the person
// to the start page, which explains why.
func (s *Server) signInAgain(w http.ResponseWriter, r *http.Request, data sessionData) {
	data.signOut(noticeExpired)
	if !s.saveSession(w, r, data) {
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// gmailFor returns a Gmail client that calls as tok, refreshing it through
// golang.org/x/oauth2 when it is due, and the source that records the
// refreshed token so the caller can store it. A token without a refresh
// token is used as it is: oauth2 would answer its expiry with "token expired
// and refresh token is not set", which looks like any other failure, so
// callers renew such a token before it is due instead.
func (s *Server) gmailFor(ctx context.Context, tok *oauth2.Token, account string) (*gmail.Client, *recordingSource) {
	inner := oauth2.StaticTokenSource(tok)
	if tok.RefreshToken != "" {
		inner = s.oauth.TokenSource(s.oauthContext(ctx), tok)
	}
	source := &recordingSource{source: inner}
	authed := &http.Client{Transport: &oauth2.Transport{Source: source, Base: s.gmailTransport}}
	return s.gmail.Client(authed, account), source
}

// recordingSource remembers the last token it handed out, so the handler
// can tell whether golang.org/x/oauth2 refreshed it during the request.
type recordingSource struct {
	source oauth2.TokenSource
	mu     sync.Mutex
	last   *oauth2.Token
}

func (r *recordingSource) Token() (*oauth2.Token, error) {
	tok, err := r.source.Token()
	if err == nil {
		r.mu.Lock()
		r.last = tok
		r.mu.Unlock()
	}
	return tok, err
}

func (r *recordingSource) latest() *oauth2.Token {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}
