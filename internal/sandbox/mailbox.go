package sandbox

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"gmailoauth/internal/encword"
)

// Gmail system label IDs.
const (
	labelInbox      = "INBOX"
	labelUnread     = "UNREAD"
	labelStarred    = "STARRED"
	labelImportant  = "IMPORTANT"
	labelSent       = "SENT"
	labelDraft      = "DRAFT"
	labelSpam       = "SPAM"
	labelTrash      = "TRASH"
	labelChat       = "CHAT"
	labelPersonal   = "CATEGORY_PERSONAL"
	labelSocial     = "CATEGORY_SOCIAL"
	labelPromotions = "CATEGORY_PROMOTIONS"
	labelUpdates    = "CATEGORY_UPDATES"
	labelForums     = "CATEGORY_FORUMS"
)

// systemLabels are the label IDs every Gmail mailbox has; the seeded
// mailboxes use no user labels, so any other ID is unknown.
var systemLabels = []string{
	labelInbox, labelUnread, labelStarred, labelImportant, labelSent, labelDraft, labelSpam, labelTrash,
	labelChat, labelPersonal, labelSocial, labelPromotions, labelUpdates, labelForums,
}

// searchLabels maps the label names usable in Gmail search (label:, in:,
// is:, category:) to label IDs.
var searchLabels = map[string]string{
	"inbox": labelInbox, "unread": labelUnread, "starred": labelStarred, "important": labelImportant,
	"sent": labelSent, "draft": labelDraft, "drafts": labelDraft, "spam": labelSpam, "trash": labelTrash,
	"chat": labelChat, "chats": labelChat,
	"primary": labelPersonal, "personal": labelPersonal, "social": labelSocial,
	"promotions": labelPromotions, "updates": labelUpdates, "forums": labelForums,
}

// Values of the format parameter of messages.get.
const (
	formatMinimal  = "minimal"
	formatMetadata = "metadata"
	formatFull     = "full"
	formatRaw      = "raw"
)

// snippetRunes is roughly the length of Gmail's snippets.
const snippetRunes = 140

type header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// message is one stored message. Header values are what the Gmail API
// returns: decoded to UTF-8, except where the sender's encoding was left as
// is. Its labels and history ID change, under its mailbox's lock.
type message struct {
	id           string
	threadID     string
	labels       []string
	internalDate time.Time
	historyID    uint64
	headers      []header
	text         string
	html         string // empty for text/plain-only messages
	boundary     string // MIME boundary when html or attachments are set
	snippet      string // HTML-escaped, as Gmail sends it
	attachments  []attachment
	raw          []byte // the RFC 5322 form, for sizeEstimate and format=raw
}

// attachment is a file sent with a message.
type attachment struct {
	filename, mimeType string
	data               []byte
}

// mailbox is one account's mail. The messages and their labels change as
// mail is delivered and read, so every access holds mu.
type mailbox struct {
	address    string
	name       string
	givenName  string
	familyName string

	mu        sync.RWMutex
	messages  []*message // newest first
	byID      map[string]*message
	historyID uint64
	history   []historyRecord // oldest first, at most maxHistory
}

// historyRecord is one change to a mailbox, as users.history.list reports
// it.
type historyRecord struct {
	id            uint64
	message       *message
	added         bool     // messagesAdded
	labelsAdded   []string // labelsAdded
	labelsRemoved []string // labelsRemoved
}

// maxHistory bounds the changes a mailbox remembers; a startHistoryId
// older than the oldest is 404, as Gmail answers one it no longer has.
const maxHistory = 1000

func newMailbox(address, name string, messages []*message) *mailbox {
	box := &mailbox{address: address, name: name, messages: messages, byID: make(map[string]*message)}
	for _, m := range messages {
		box.byID[m.id] = m
		box.historyID = max(box.historyID, m.historyID)
	}
	return box
}

func (m *message) hasLabel(label string) bool {
	return slices.Contains(m.labels, label)
}

// headerValue returns the first header called name, case-insensitively.
func (m *message) headerValue(name string) (string, bool) {
	for _, h := range m.headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// messageFilter is what a list asks for: labelIds, q, includeSpamTrash.
type messageFilter struct {
	labels           []string // every match has each
	q                query    // nil matches every message
	scope            searchScope
	includeSpamTrash bool
}

// search returns the matching messages, newest first. Like Gmail, spam and
// trash only show up when asked for. Callers hold box.mu.
func (box *mailbox) search(f messageFilter) []*message {
	hideSpamTrash := !f.includeSpamTrash && !f.scope.spamOrTrash &&
		!slices.Contains(f.labels, labelSpam) && !slices.Contains(f.labels, labelTrash)
	var matches []*message
	for _, m := range box.messages {
		if hideSpamTrash && (m.hasLabel(labelSpam) || m.hasLabel(labelTrash)) {
			continue
		}
		if !allLabels(m, f.labels) || f.q != nil && !f.q(m) {
			continue
		}
		matches = append(matches, m)
	}
	return matches
}

func allLabels(m *message, labels []string) bool {
	for _, label := range labels {
		if !m.hasLabel(label) {
			return false
		}
	}
	return true
}

// threads returns the threads of messages, the thread of the newest message
// first, each with its messages oldest first. Callers hold box.mu.
func (box *mailbox) threads(messages []*message) [][]*message {
	var order []string
	byThread := map[string]bool{}
	for _, m := range messages {
		if !byThread[m.threadID] {
			byThread[m.threadID] = true
			order = append(order, m.threadID)
		}
	}
	threads := make([][]*message, len(order))
	for i, id := range order {
		threads[i] = box.thread(id)
	}
	return threads
}

// thread returns the messages of thread id, oldest first. Callers hold
// box.mu.
func (box *mailbox) thread(id string) []*message {
	var thread []*message
	for _, m := range slices.Backward(box.messages) {
		if m.threadID == id {
			thread = append(thread, m)
		}
	}
	return thread
}

// record notes a change to m and gives m and the mailbox its history ID.
// Callers hold box.mu for writing.
func (box *mailbox) record(change historyRecord) {
	box.historyID++
	change.id = box.historyID
	change.message.historyID = box.historyID
	box.history = append(box.history, change)
	if len(box.history) > maxHistory {
		box.history = slices.Delete(box.history, 0, len(box.history)-maxHistory)
	}
}

// add puts m in the mailbox, newest first by internal date, which
// "determines ordering in the inbox" (the Message resource's reference),
// and before the messages of its very date. Callers hold box.mu for
// writing.
func (box *mailbox) add(m *message) {
	at := slices.IndexFunc(box.messages, func(other *message) bool { return !other.internalDate.After(m.internalDate) })
	if at < 0 {
		at = len(box.messages)
	}
	box.messages = slices.Insert(box.messages, at, m)
	box.byID[m.id] = m
	box.record(historyRecord{message: m, added: true})
}

// replyThread is the thread an inserted message m joins: threadID, when m
// replies into it as Google's "Manage threads" guide requires (References
// and In-Reply-To set, and the Subject of the thread's messages), and
// otherwise a thread of its own. Callers hold box.mu.
func (box *mailbox) replyThread(m *message, threadID string) string {
	inReplyTo, _ := m.headerValue("In-Reply-To")
	references, _ := m.headerValue("References")
	if threadID == "" || strings.TrimSpace(inReplyTo) == "" || strings.TrimSpace(references) == "" {
		return m.id
	}
	subject := threadSubject(m)
	for _, other := range box.thread(threadID) {
		if threadSubject(other) == subject {
			return threadID
		}
	}
	return m.id
}

// threadSubject is a message's Subject as threading compares it: decoded,
// and without the "Re:" and "Fwd:" that replies and forwards put in front.
func threadSubject(m *message) string {
	subject, _ := m.headerValue("Subject")
	subject = strings.TrimSpace(encword.Decode(subject))
	for {
		cut := false
		for _, prefix := range []string{"re:", "fwd:", "fw:"} {
			if len(subject) >= len(prefix) && strings.EqualFold(subject[:len(prefix)], prefix) {
				subject, cut = strings.TrimSpace(subject[len(prefix):]), true
			}
		}
		if !cut {
			return subject
		}
	}
}

// relabel adds and removes labels of m and records the change. Callers
// hold box.mu for writing.
func (box *mailbox) relabel(m *message, add, remove []string) {
	var added, removed []string
	for _, label := range add {
		if !m.hasLabel(label) {
			m.labels = append(m.labels, label)
			added = append(added, label)
		}
	}
	for _, label := range remove {
		if m.hasLabel(label) {
			m.labels = slices.DeleteFunc(m.labels, func(l string) bool { return l == label })
			removed = append(removed, label)
		}
	}
	if len(added) > 0 || len(removed) > 0 {
		box.record(historyRecord{message: m, labelsAdded: added, labelsRemoved: removed})
	}
}

// changesSince returns the changes after historyID, and false when the
// mailbox no longer remembers that far back. Callers hold box.mu.
func (box *mailbox) changesSince(historyID uint64) ([]historyRecord, bool) {
	if len(box.history) > 0 && historyID < box.history[0].id-1 || historyID > box.historyID {
		return nil, false
	}
	if len(box.history) == 0 && historyID < box.historyID {
		// Older than anything the mailbox remembers changing: the seeded
		// mailbox's history starts at its seeding.
		return nil, false
	}
	start, _ := slices.BinarySearchFunc(box.history, historyID+1, func(r historyRecord, id uint64) int {
		return int(r.id) - int(id)
	})
	return box.history[start:], true
}

// Delivery is a message that Deliver puts in a mailbox, as mail arriving.
type Delivery struct {
	From    string // default: a sender of the sandbox's
	To      string // default: the mailbox's owner
	Subject string
	Text    string
}

// Deliver puts a new unread message in account's inbox, as mail arriving
// from outside, and returns its ID. history.list reports it, and the next
// list shows it. An account that is not seeded gets a mailbox of its own.
func (s *Server) Deliver(account string, d Delivery) string {
	box := s.mailbox(account)
	box.mu.Lock()
	defer box.mu.Unlock()
	m := s.newMessage(box, seedMessage{
		at: s.now(), from: cmp.Or(d.From, "Sandbox Sender <sender@sandbox.example>"), to: d.To,
		subject: d.Subject, text: d.Text, unread: true, labels: []string{labelPersonal, labelInbox},
	})
	box.add(m)
	return m.id
}

// MarkRead takes UNREAD off account's message id, as opening it in Gmail
// does, and reports whether there was such a message.
func (s *Server) MarkRead(account, id string) bool {
	box := s.mailbox(account)
	box.mu.Lock()
	defer box.mu.Unlock()
	m, ok := box.byID[id]
	if ok {
		box.relabel(m, nil, []string{labelUnread})
	}
	return ok
}

// seeded returns the mailbox of a seeded account.
func (s *Server) seeded(account string) (*mailbox, bool) {
	address, ok := s.seededAccount(account)
	if !ok {
		return nil, false
	}
	return s.mailbox(address), true
}

// mailbox returns account's mailbox, making an empty one for an account
// that has none: Google gives every account a mailbox.
func (s *Server) mailbox(account string) *mailbox {
	s.mailboxesMu.Lock()
	defer s.mailboxesMu.Unlock()
	for address, box := range s.mailboxes {
		if strings.EqualFold(address, account) {
			return box
		}
	}
	box := newMailbox(account, "", nil)
	s.mailboxes[account] = box
	return box
}

// newMessage builds a message for box from seed, with an ID, a thread of
// its own and its headers. Callers hold box.mu for writing.
func (s *Server) newMessage(box *mailbox, seed seedMessage) *message {
	m := &message{id: s.ids.messageID(seed.at), internalDate: seed.at, text: seed.text}
	m.threadID = m.id
	m.labels = seedLabels(seed)
	owner := box.address
	if box.name != "" {
		owner = box.name + " <" + box.address + ">"
	}
	m.headers = seedHeaders(seed, m, mailOwner{box.address, owner}, "<"+m.id+".sandbox@"+senderDomain(seed.from)+">", nil)
	m.snippet = makeSnippet(seed.text)
	m.raw = m.buildRaw()
	return m
}

// labelCounts are a label's counts, as labels.get reports them.
type labelCounts struct {
	messagesTotal, messagesUnread, threadsTotal, threadsUnread int
}

// counts counts label in the mailbox. Callers hold box.mu.
func (box *mailbox) counts(label string) labelCounts {
	var c labelCounts
	threads, unreadThreads := map[string]bool{}, map[string]bool{}
	for _, m := range box.messages {
		if !m.hasLabel(label) {
			continue
		}
		c.messagesTotal++
		threads[m.threadID] = true
		if m.hasLabel(labelUnread) {
			c.messagesUnread++
			unreadThreads[m.threadID] = true
		}
	}
	c.threadsTotal, c.threadsUnread = len(threads), len(unreadThreads)
	return c
}

// threadsTotal is how many threads the mailbox holds. Callers hold box.mu.
func (box *mailbox) threadsTotal() int {
	threads := map[string]bool{}
	for _, m := range box.messages {
		threads[m.threadID] = true
	}
	return len(threads)
}
