package gmail

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/mail"
	"time"
)

const (
	defaultPageSize = 50
	maxPageSize     = 500 // Gmail's largest maxResults
	// tooLongMemory is how long a message whose metadata answer alone is
	// over MaxResponseBytes is shown as unavailable without asking again:
	// asking would cost as much and fail the same way, on every view. It is
	// short, so that an answer that fits again soon shows soon.
	tooLongMemory = 10 * time.Minute
)

// Page is one page of the unread inbox, ready to render.
type Page struct {
	Messages           []Summary // in Gmail's list order
	NextPageToken      string
	ResultSizeEstimate int
	// Account is the mailbox's address: the Client's, or, for a Client
	// made without one, what Gmail's profile said; "" when that failed.
	Account string
}

// Summary is what the inbox page shows of one message. All text is plain,
// valid UTF-8 and bounded; the template escapes it.
type Summary struct {
	ID       string
	ThreadID string
	From     Address // the parsed From header
	Subject  string  // decoded, trimmed, at most maxSubjectRunes runes
	// Date is the Date header, else Gmail's internal date, else zero.
	Date time.Time
	// Snippet is plain text: Gmail's HTML-escaped snippet unescaped once.
	Snippet string
	// Err is set when this message's metadata could not be fetched; then
	// only ID and ThreadID are set.
	Err error
}

// Unread returns a page of unread messages with their metadata: it lists
// the IDs (q=is:unread), then fetches the metadata of those not in the cache
// in batch requests (fetchMetadata). A pageSize ≤ 0 means 50; more than 500
// means 500.
//
// A message whose metadata could not be fetched still appears, with
// Summary.Err set; one whose answer alone was too long is not asked for
// again for tooLongMemory (with a cache). Only the list failing fails the
// page, except that Gmail rejecting the token (ErrUnauthorized) fails it
// too, because every further call would need a new sign-in.
//
// A Client made without an account (the first view after a sign-in) asks
// Gmail's profile whose mailbox it is beside the list, not before it: the
// list does not need the answer, only the cache does, so the sign-in costs
// no round trip more. The profile failing leaves Page.Account empty and the
// page uncached. When the list fails, the Page returned with the error
// holds the Account alone, so an error page can still say who is signed in.
func (c *Client) Unread(ctx context.Context, pageToken string, pageSize int) (Page, error) {
	if pageSize <= 0 {
		pageSize = defaultPageSize
	}
	pageSize = min(pageSize, maxPageSize)
	sem := c.newSemaphore()
	whose := c.whose(ctx, sem)
	list, err := c.listUnread(ctx, sem, pageToken, pageSize)
	c.account = whose()
	if err != nil {
		return Page{Account: c.account}, fmt.Errorf("gmail unread: %w", err)
	}

	page := Page{
		Messages:           make([]Summary, len(list.Messages)),
		NextPageToken:      list.NextPageToken,
		ResultSizeEstimate: list.ResultSizeEstimate,
		Account:            c.account,
	}
	var missing []string
	seen := make(map[string]bool, len(list.Messages))
	for i, ref := range list.Messages {
		if summary, ok := c.cached(ref.ID); ok {
			page.Messages[i] = summary
			continue
		}
		if !seen[ref.ID] {
			seen[ref.ID] = true
			missing = append(missing, ref.ID)
		}
	}

	fetched := c.fetchMetadata(ctx, sem, missing)
	for i, ref := range list.Messages {
		result, ok := fetched[ref.ID]
		if !ok {
			continue // served from the cache
		}
		if result.err != nil {
			if errors.Is(result.err, ErrUnauthorized) {
				return Page{}, fmt.Errorf("gmail unread: metadata of %.64q: %w", ref.ID, result.err)
			}
			failed := Summary{ID: ref.ID, ThreadID: ref.ThreadID, Err: fmt.Errorf("gmail metadata of %.64q: %w", ref.ID, result.err)}
			page.Messages[i] = failed
			if errors.Is(result.err, errTooLong) {
				c.remember(failed)
			}
			continue
		}
		summary := summarize(result.msg)
		page.Messages[i] = summary
		c.store(summary)
	}
	return page, nil
}

// whose starts asking Gmail's profile for the account when c has none, and
// returns the function that waits for the answer: the address, or "" when
// the call failed. Nothing it started is running when that function
// returns.
func (c *Client) whose(ctx context.Context, sem semaphore) func() string {
	if c.account != "" {
		return func() string { return c.account }
	}
	var profile Profile
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		profile, err = c.profile(ctx, sem)
	}()
	return func() string {
		<-done
		if err != nil {
			c.svc.cfg.Logger.Warn("gmail profile", "err", err)
			return ""
		}
		return profile.EmailAddress
	}
}

func summarize(msg Message) Summary {
	return Summary{
		ID:       msg.ID,
		ThreadID: msg.ThreadID,
		From:     ParseAddress(msg.Header("From")),
		Subject:  DecodeHeader(msg.Header("Subject")),
		Date:     summaryDate(msg),
		Snippet:  boundText(cleanText(html.UnescapeString(msg.Snippet)), maxSnippetRunes),
	}
}

func summaryDate(msg Message) time.Time {
	if header := msg.Header("Date"); header != "" {
		if date, err := mail.ParseDate(header); err == nil {
			return date
		}
	}
	return msg.InternalDate
}

// cached returns the cached summary of message id for this Client's
// account, or the failure remembered for it.
func (c *Client) cached(id string) (Summary, bool) {
	if c.svc.cfg.Cache == nil || c.account == "" {
		return Summary{}, false
	}
	return c.svc.cfg.Cache.Get(c.account, id, c.svc.cfg.Now())
}

// remember keeps failed for tooLongMemory, for this Client's account.
func (c *Client) remember(failed Summary) {
	if c.svc.cfg.Cache == nil || c.account == "" {
		return
	}
	c.svc.cfg.Cache.remember(c.account, failed, c.svc.cfg.Now().Add(tooLongMemory))
}

func (c *Client) store(summary Summary) {
	if c.svc.cfg.Cache == nil || c.account == "" {
		return
	}
	c.svc.cfg.Cache.Put(c.account, summary)
}
