package mailstore

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Store is every mailbox of the sandbox: the seeded ones, and an empty one
// for any other account, made when first asked for, as Google gives every
// account a mailbox. Its lock guards the set of mailboxes only; each
// mailbox has a lock of its own.
type Store struct {
	mu        sync.Mutex
	mailboxes map[string]*Mailbox
	accounts  []string // the seeded ones, the default first
	ids       idSource // of new messages, across mailboxes
}

// NewStore seeds the mailboxes, their mail dated relative to now.
func NewStore(now time.Time) *Store {
	st := &Store{mailboxes: make(map[string]*Mailbox)}
	for _, box := range seedMailboxes(now, &st.ids) {
		st.accounts = append(st.accounts, box.Address)
		st.mailboxes[box.Address] = box
	}
	return st
}

// Accounts returns the seeded account addresses; the first is the default.
func (st *Store) Accounts() []string {
	return slices.Clone(st.accounts)
}

// seededAccount returns the seeded account address names, ignoring case.
func (st *Store) seededAccount(address string) (string, bool) {
	for _, account := range st.accounts {
		if strings.EqualFold(account, address) {
			return account, true
		}
	}
	return "", false
}

// Seeded returns the mailbox of a seeded account.
func (st *Store) Seeded(account string) (*Mailbox, bool) {
	address, ok := st.seededAccount(account)
	if !ok {
		return nil, false
	}
	return st.Mailbox(address), true
}

// Mailbox returns account's mailbox, making an empty one for an account
// that has none.
func (st *Store) Mailbox(account string) *Mailbox {
	st.mu.Lock()
	defer st.mu.Unlock()
	for address, box := range st.mailboxes {
		if strings.EqualFold(address, account) {
			return box
		}
	}
	box := newMailbox(account, "", nil)
	st.mailboxes[account] = box
	return box
}

// NewMessageID returns a new message's ID, unique across the mailboxes,
// for a message that arrives at.
func (st *Store) NewMessageID(at time.Time) string {
	return st.ids.messageID(at)
}

// Delivery is a message that Deliver puts in a mailbox, as mail arriving.
type Delivery struct {
	From    string // default: a sender of the sandbox's
	To      string // default: the mailbox's owner
	Subject string
	Text    string
}

// Deliver puts a new unread message, received at now, in account's inbox,
// as mail arriving from outside, and returns its ID. The mailbox's history
// reports it. An account that is not seeded gets a mailbox of its own.
func (st *Store) Deliver(account string, d Delivery, now time.Time) string {
	box := st.Mailbox(account)
	box.Mu.Lock()
	defer box.Mu.Unlock()
	m := st.newMessage(box, seedMessage{
		at: now, from: cmp.Or(d.From, "Sandbox Sender <sender@sandbox.example>"), to: d.To,
		subject: d.Subject, text: d.Text, unread: true, labels: []string{LabelPersonal, LabelInbox},
	})
	box.Add(m)
	return m.ID
}

// MarkRead takes UNREAD off account's message id, as opening it in Gmail
// does, and reports whether there was such a message.
func (st *Store) MarkRead(account, id string) bool {
	box := st.Mailbox(account)
	box.Mu.Lock()
	defer box.Mu.Unlock()
	m, ok := box.ByID[id]
	if ok {
		box.Relabel(m, nil, []string{LabelUnread})
	}
	return ok
}

// UnreadCount is the number of messages a Gmail search for "is:unread"
// finds in account's mailbox (spam and trash excluded, as Gmail does).
func (st *Store) UnreadCount(account string) int {
	box := st.Mailbox(account)
	box.Mu.RLock()
	defer box.Mu.RUnlock()
	return len(box.Search(Filter{Labels: []string{LabelUnread}}))
}

// newMessage builds a message for box from seed, with an ID, a thread of
// its own and its headers. Callers hold box.Mu for writing.
func (st *Store) newMessage(box *Mailbox, seed seedMessage) *Message {
	m := &Message{ID: st.ids.messageID(seed.at), InternalDate: seed.at, Text: seed.text}
	m.ThreadID = m.ID
	m.Labels = seedLabels(seed)
	owner := box.Address
	if box.Name != "" {
		owner = box.Name + " <" + box.Address + ">"
	}
	m.Headers = seedHeaders(seed, m, mailOwner{box.Address, owner}, "<"+m.ID+".sandbox@"+senderDomain(seed.from)+">", nil)
	m.Snippet = makeSnippet(seed.text)
	m.Raw = m.buildRaw()
	return m
}
