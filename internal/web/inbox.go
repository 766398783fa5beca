package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"gmailoauth/internal/gmail"
)

// pageSize is how many unread messages one inbox page shows.
const pageSize = 50

// inboxData is the template data of the inbox page.
type inboxData struct {
	inboxHead
	Messages []messageView // in Gmail's list order
}

// inboxHead is what the inbox page shows besides its rows.
type inboxHead struct {
	layoutData
	Estimate   int    // Gmail's resultSizeEstimate: "about N unread"
	PageNumber int    // 1 for the newest page
	Older      string // link to the next (older) page, or ""
	Newer      string // link to the previous (newer) page, or ""
	Failed     int    // messages whose details could not be fetched
}

// maxInboxPageBytes bounds the inbox pages kept rendered (pageCache): about
// 150 pages of 50 rows, plain and gzipped.
const maxInboxPageBytes = 8 << 20

// handleHome serves GET /home: the signed-in person's unread messages, 50 a
// page. A token that is due is refreshed first, and a refreshed token is
// written back into the session whatever happens to the Gmail call after
// it. A token that is due and cannot be refreshed (Google gave no refresh
// token) is renewed by a silent re-authorization that comes back to this
// same page.
func (s *Server) handleHome() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, rewrite := s.sessions.load(r)
		paging, ok := parsePaging(r.URL.Query())
		switch {
		case data.Token == nil || !s.sessions.fromOwnPages(r):
			// A request another site started gets the start page, which
			// offers the way in, and no mail (fromOwnPages).
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		case !ok:
			s.renderProblem(w, r, problemBadRequest)
			return
		}
		before := data.inboxState()
		chained := data.endRenewalChain(s.now())
		if data.Token.mustRenew(s.now()) {
			s.startRenewal(w, r, data, paging.link(), chained)
			return
		}
		unread, err := s.unread(r.Context(), &data, paging)
		if grantGone(err) {
			s.log.Info("grant gone", "err", err)
			s.signInAgain(w, r, data)
			return
		}
		if (rewrite || data.inboxState() != before) && !s.saveSession(w, r, data) {
			return
		}
		if err != nil {
			s.log.Warn("inbox", "err", err)
			s.showProblem(w, r, problemFor(err), paging.link(), data)
			return
		}
		s.renderInbox(w, r, data, paging, unread)
	})
}

// unread fetches the page of unread mail the session's token reads. It
// counts the view toward the person's limit, refreshes the token first
// when it is due, and keeps in data the refreshed token and the account
// Gmail names on the first view after a sign-in.
func (s *Server) unread(ctx context.Context, data *sessionData, paging paging) (gmail.Page, error) {
	if wait, ok := s.views.take(sessionKey(*data), s.now()); !ok {
		return gmail.Page{}, tooFast(wait)
	}
	ctx, cancel := context.WithTimeout(ctx, s.pageTimeout)
	defer cancel()
	if data.Token.due(s.now()) {
		refreshed, err := s.refresh(ctx, data.Token)
		s.metrics.Refresh(refreshOutcome(err))
		if err != nil {
			return gmail.Page{}, err
		}
		data.Token = refreshed
	}
	page, err := s.gmailAs(data.Token.Access, data.Account).Unread(ctx, paging.token, pageSize)
	if data.Account == "" && page.Account != "" {
		data.Account = page.Account
		// The view was let through on the sign-in's own count; it counts
		// toward the account's too, so that signing in again buys this
		// one view, not a fresh burst.
		s.views.take(sessionKey(*data), s.now())
	}
	return page, err
}

// tooFast is the error of a view over the person's limit: how long until
// the next view is let through.
type tooFast time.Duration

func (t tooFast) Error() string {
	return fmt.Sprintf("inbox views: over the limit for %v", time.Duration(t))
}

// grantGone reports whether err means Google no longer honours the
// session's grant: a refresh refused with invalid_grant (revoked, or a
// Testing app's week is up), or Gmail refusing the token. The person
// signs in again.
func grantGone(err error) bool {
	var retrieve *oauth2.RetrieveError
	return errors.As(err, &retrieve) && retrieve.ErrorCode == "invalid_grant" || errors.Is(err, gmail.ErrUnauthorized)
}

// problemFor is the page a failed view of the inbox shows: the one place
// where Google's and Gmail's errors become statuses and pages.
func problemFor(err error) problem {
	var retrieve *oauth2.RetrieveError
	var wait tooFast
	switch {
	case errors.As(err, &wait):
		p := problemTooFast
		p.retryAfter = time.Duration(wait)
		return p
	case errors.As(err, &retrieve) && retrieve.Response != nil && retrieve.Response.StatusCode >= 500,
		errors.Is(err, errRefreshUnanswered):
		return problemGoogleDown
	case errors.As(err, &retrieve):
		// Google refused the refresh for another reason than a grant that
		// is gone, such as the app's client being refused.
		return problemRenewalRefused
	case errors.Is(err, gmail.ErrForbidden):
		return problemForbidden
	case errors.Is(err, gmail.ErrBadRequest):
		// Gmail refused the request itself: with a well-formed URL that is
		// a page token that is stale or not Gmail's.
		return problemStalePage
	case errors.Is(err, gmail.ErrRateLimited):
		p := problemRateLimited
		p.retryAfter = max(gmail.RetryAfter(err), 5*time.Second)
		return p
	}
	return problemGmailDown
}

// refreshOutcome names how a refresh ended, for the metrics.
func refreshOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case grantGone(err):
		return "grantGone"
	case problemFor(err) == problemRenewalRefused:
		return "renewalRefused"
	}
	return "googleDown"
}

// renderInbox shows unread, the page paging names: the page kept from a
// view that showed the same, else a new one, which is kept instead. A page
// with a failed row is not kept, since the next view may bring the row's
// details, nor one whose account Gmail did not name.
func (s *Server) renderInbox(w http.ResponseWriter, r *http.Request, data sessionData, paging paging, unread gmail.Page) {
	view := inboxData{inboxHead: inboxHead{
		layoutData: s.layout(r, "inbox.title", paging.link(), data),
		Estimate:   unread.ResultSizeEstimate,
		PageNumber: paging.number(),
		Older:      paging.olderLink(unread.NextPageToken),
		Newer:      paging.newerLink(),
	}}
	now := s.now().In(s.location)
	shown := inboxShown{rows: make([]shownRow, len(unread.Messages))}
	for i, m := range unread.Messages {
		row := shownRow{id: m.ID, failed: m.Err != nil}
		if row.failed {
			view.Failed++
		} else if !m.Date.IsZero() {
			row.when = relativeDate(m.Date.In(s.location), now, view.Lang)
		}
		shown.rows[i] = row
	}
	shown.head = view.inboxHead
	key := pageKey{account: data.Account, lang: view.Lang, token: paging.token}
	keep := data.Account != "" && view.Failed == 0
	if keep {
		if kept, ok := s.inboxPages.get(key, shown); ok {
			writePage(w, r, http.StatusOK, kept)
			return
		}
	}
	view.Messages = make([]messageView, len(unread.Messages))
	for i, m := range unread.Messages {
		view.Messages[i] = s.messageView(data.Account, m, shown.rows[i].when, view.Lang)
	}
	p, err := s.execute(s.templates.inbox, view, keep || acceptsGzip(r))
	if err != nil {
		s.renderFailed(w, r, s.templates.inbox, err)
		return
	}
	if keep {
		s.inboxPages.put(key, shown, p)
	}
	writePage(w, r, http.StatusOK, p)
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

// errRefreshUnanswered is a refresh that got no answer from Google.
var errRefreshUnanswered = errors.New("token refresh: Google did not answer")

// refresh asks Google for a new access token with t's refresh token. The
// app's clock, not golang.org/x/oauth2's, decides when that is due
// (authToken.due), so the token source is asked once, for exactly this.
func (s *Server) refresh(ctx context.Context, t *authToken) (*authToken, error) {
	tok, err := s.oauth.TokenSource(s.oauthContext(ctx), &oauth2.Token{RefreshToken: t.Refresh}).Token()
	var retrieve *oauth2.RetrieveError
	switch {
	case errors.As(err, &retrieve):
		return nil, fmt.Errorf("token refresh: %w", err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errRefreshUnanswered, err)
	}
	return s.authToken(tok, t.Refresh), nil
}

// authToken is what the session keeps of tok: its expiry counted on the
// app's clock from Google's expires_in (golang.org/x/oauth2 counts it on
// time.Now), so that one clock decides when a token is due and tests can
// move it; and refresh, the refresh token it came from, when Google sent
// none with it.
func (s *Server) authToken(tok *oauth2.Token, refresh string) *authToken {
	kept := &authToken{Access: tok.AccessToken, Refresh: cmp.Or(tok.RefreshToken, refresh), Expiry: tok.Expiry}
	if tok.ExpiresIn > 0 {
		kept.Expiry = s.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return kept
}

// gmailAs returns a Gmail client that calls with the access token access,
// for account ("" when it is not known yet).
func (s *Server) gmailAs(access, account string) *gmail.Client {
	source := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access, TokenType: "Bearer"})
	return s.gmail.Client(&http.Client{Transport: &oauth2.Transport{Source: source, Base: s.gmailTransport}}, account)
}
