package mailstore

import (
	"slices"
	"strings"
	"sync"
	"time"

	"gmailoauth/internal/encword"
)

// Gmail system label IDs.
const (
	LabelInbox      = "INBOX"
	LabelUnread     = "UNREAD"
	LabelStarred    = "STARRED"
	LabelImportant  = "IMPORTANT"
	LabelSent       = "SENT"
	LabelDraft      = "DRAFT"
	LabelSpam       = "SPAM"
	LabelTrash      = "TRASH"
	LabelChat       = "CHAT"
	LabelPersonal   = "CATEGORY_PERSONAL"
	LabelSocial     = "CATEGORY_SOCIAL"
	LabelPromotions = "CATEGORY_PROMOTIONS"
	LabelUpdates    = "CATEGORY_UPDATES"
	LabelForums     = "CATEGORY_FORUMS"
)

// SystemLabels are the label IDs every Gmail mailbox has; the seeded
// mailboxes use no user labels, so any other ID is unknown.
var SystemLabels = []string{
	LabelInbox, LabelUnread, LabelStarred, LabelImportant, LabelSent, LabelDraft, LabelSpam, LabelTrash,
	LabelChat, LabelPersonal, LabelSocial, LabelPromotions, LabelUpdates, LabelForums,
}

// searchLabels maps the label names usable in Gmail search (label:, in:,
// is:, category:) to label IDs.
var searchLabels = map[string]string{
	"inbox": LabelInbox, "unread": LabelUnread, "starred": LabelStarred, "important": LabelImportant,
	"sent": LabelSent, "draft": LabelDraft, "drafts": LabelDraft, "spam": LabelSpam, "trash": LabelTrash,
	"chat": LabelChat, "chats": LabelChat,
	"primary": LabelPersonal, "personal": LabelPersonal, "social": LabelSocial,
	"promotions": LabelPromotions, "updates": LabelUpdates, "forums": LabelForums,
}

// snippetRunes is roughly the length of Gmail's snippets.
const snippetRunes = 140

// Header is one header of a message, as the Gmail API gives it.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Message is one stored message. Header values are what the Gmail API
// returns: decoded to UTF-8, except where the sender's encoding was left as
// is. Its labels and history ID change, under its mailbox's lock.
type Message struct {
	ID           string
	ThreadID     string
	Labels       []string
	InternalDate time.Time
	HistoryID    uint64
	Headers      []Header
	Text         string
	HTML         string // empty for text/plain-only messages
	boundary     string // MIME boundary when html or attachments are set
	Snippet      string // HTML-escaped, as Gmail sends it
	Attachments  []Attachment
	Raw          []byte // the RFC 5322 form, for sizeEstimate and format=raw
}

// Attachment is a file sent with a message.
type Attachment struct {
	Filename, MimeType string
	Data               []byte
}

// Mailbox is one account's mail. The messages and their labels change as
// mail is delivered and read, so every access to Messages, ByID, HistoryID
// and the messages' labels and history IDs holds Mu; the names never change.
type Mailbox struct {
	Address    string
	Name       string
	GivenName  string
	FamilyName string

	Mu        sync.RWMutex
	Messages  []*Message // newest first
	ByID      map[string]*Message
	HistoryID uint64
	history   []HistoryRecord // oldest first, at most maxHistory
}

// HistoryRecord is one change to a mailbox, as users.history.list reports
// it.
type HistoryRecord struct {
	ID            uint64
	Message       *Message
	Added         bool     // messagesAdded
	LabelsAdded   []string // labelsAdded
	LabelsRemoved []string // labelsRemoved
}

// maxHistory bounds the changes a mailbox remembers; a startHistoryId
// older than the oldest is 404, as Gmail answers one it no longer has.
const maxHistory = 1000

func newMailbox(address, name string, messages []*Message) *Mailbox {
	box := &Mailbox{Address: address, Name: name, Messages: messages, ByID: make(map[string]*Message)}
	for _, m := range messages {
		box.ByID[m.ID] = m
		box.HistoryID = max(box.HistoryID, m.HistoryID)
	}
	return box
}

// HasLabel reports whether m has label. Callers hold its mailbox's Mu.
func (m *Message) HasLabel(label string) bool {
	return slices.Contains(m.Labels, label)
}

// HeaderValue returns the first header called name, case-insensitively.
func (m *Message) HeaderValue(name string) (string, bool) {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// Filter is what a list asks for: labelIds, q, includeSpamTrash.
type Filter struct {
	Labels           []string // every match has each
	Q                Query    // nil matches every message
	Scope            SearchScope
	IncludeSpamTrash bool
}

// Search returns the matching messages, newest first. Like Gmail, spam and
// trash only show up when asked for. Callers hold box.Mu.
func (box *Mailbox) Search(f Filter) []*Message {
	hideSpamTrash := !f.IncludeSpamTrash && !f.Scope.spamOrTrash &&
		!slices.Contains(f.Labels, LabelSpam) && !slices.Contains(f.Labels, LabelTrash)
	var matches []*Message
	for _, m := range box.Messages {
		if hideSpamTrash && (m.HasLabel(LabelSpam) || m.HasLabel(LabelTrash)) {
			continue
		}
		if !allLabels(m, f.Labels) || f.Q != nil && !f.Q(m) {
			continue
		}
		matches = append(matches, m)
	}
	return matches
}

func allLabels(m *Message, labels []string) bool {
	for _, label := range labels {
		if !m.HasLabel(label) {
			return false
		}
	}
	return true
}

// Threads returns the threads of messages, the thread of the newest message
// first, each with its messages oldest first. Callers hold box.Mu.
func (box *Mailbox) Threads(messages []*Message) [][]*Message {
	var order []string
	byThread := map[string]bool{}
	for _, m := range messages {
		if !byThread[m.ThreadID] {
			byThread[m.ThreadID] = true
			order = append(order, m.ThreadID)
		}
	}
	threads := make([][]*Message, len(order))
	for i, id := range order {
		threads[i] = box.Thread(id)
	}
	return threads
}

// Thread returns the messages of thread id, oldest first. Callers hold
// box.Mu.
func (box *Mailbox) Thread(id string) []*Message {
	var thread []*Message
	for _, m := range slices.Backward(box.Messages) {
		if m.ThreadID == id {
			thread = append(thread, m)
		}
	}
	return thread
}

// record notes a change to m and gives m and the mailbox its history ID.
// Callers hold box.Mu for writing.
func (box *Mailbox) record(change HistoryRecord) {
	box.HistoryID++
	change.ID = box.HistoryID
	change.Message.HistoryID = box.HistoryID
	box.history = append(box.history, change)
	if len(box.history) > maxHistory {
		box.history = slices.Delete(box.history, 0, len(box.history)-maxHistory)
	}
}

// Add puts m in the mailbox, newest first by internal date, which
// "determines ordering in the inbox" (the Message resource's reference),
// and before the messages of its very date. Callers hold box.Mu for
// writing.
func (box *Mailbox) Add(m *Message) {
	at := slices.IndexFunc(box.Messages, func(other *Message) bool { return !other.InternalDate.After(m.InternalDate) })
	if at < 0 {
		at = len(box.Messages)
	}
	box.Messages = slices.Insert(box.Messages, at, m)
	box.ByID[m.ID] = m
	box.record(HistoryRecord{Message: m, Added: true})
}

// ReplyThread is the thread an inserted message m joins: threadID, when m
// replies into it as Google's "Manage threads" guide requires (References
// and In-Reply-To set, and the Subject of the thread's messages), and
// otherwise a thread of its own. Callers hold box.Mu.
func (box *Mailbox) ReplyThread(m *Message, threadID string) string {
	inReplyTo, _ := m.HeaderValue("In-Reply-To")
	references, _ := m.HeaderValue("References")
	if threadID == "" || strings.TrimSpace(inReplyTo) == "" || strings.TrimSpace(references) == "" {
		return m.ID
	}
	subject := threadSubject(m)
	for _, other := range box.Thread(threadID) {
		if threadSubject(other) == subject {
			return threadID
		}
	}
	return m.ID
}

// threadSubject is a message's Subject as threading compares it: decoded,
// and without the "Re:" and "Fwd:" that replies and forwards put in front.
func threadSubject(m *Message) string {
	subject, _ := m.HeaderValue("Subject")
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

// Relabel adds and removes labels of m and records the change. Callers
// hold box.Mu for writing.
func (box *Mailbox) Relabel(m *Message, add, remove []string) {
	var added, removed []string
	for _, label := range add {
		if !m.HasLabel(label) {
			m.Labels = append(m.Labels, label)
			added = append(added, label)
		}
	}
	for _, label := range remove {
		if m.HasLabel(label) {
			m.Labels = slices.DeleteFunc(m.Labels, func(l string) bool { return l == label })
			removed = append(removed, label)
		}
	}
	if len(added) > 0 || len(removed) > 0 {
		box.record(HistoryRecord{Message: m, LabelsAdded: added, LabelsRemoved: removed})
	}
}

// ChangesSince returns the changes after historyID, and false when the
// mailbox no longer remembers that far back. Callers hold box.Mu.
func (box *Mailbox) ChangesSince(historyID uint64) ([]HistoryRecord, bool) {
	if len(box.history) > 0 && historyID < box.history[0].ID-1 || historyID > box.HistoryID {
		return nil, false
	}
	if len(box.history) == 0 && historyID < box.HistoryID {
		// Older than anything the mailbox remembers changing: the seeded
		// mailbox's history starts at its seeding.
		return nil, false
	}
	start, _ := slices.BinarySearchFunc(box.history, historyID+1, func(r HistoryRecord, id uint64) int {
		return int(r.ID) - int(id)
	})
	return box.history[start:], true
}

// LabelCounts are a label's counts, as labels.get reports them.
type LabelCounts struct {
	MessagesTotal, MessagesUnread, ThreadsTotal, ThreadsUnread int
}

// Counts counts label in the mailbox. Callers hold box.Mu.
func (box *Mailbox) Counts(label string) LabelCounts {
	var c LabelCounts
	threads, unreadThreads := map[string]bool{}, map[string]bool{}
	for _, m := range box.Messages {
		if !m.HasLabel(label) {
			continue
		}
		c.MessagesTotal++
		threads[m.ThreadID] = true
		if m.HasLabel(LabelUnread) {
			c.MessagesUnread++
			unreadThreads[m.ThreadID] = true
		}
	}
	c.ThreadsTotal, c.ThreadsUnread = len(threads), len(unreadThreads)
	return c
}

// ThreadsTotal is how many threads the mailbox holds. Callers hold box.Mu.
func (box *Mailbox) ThreadsTotal() int {
	threads := map[string]bool{}
	for _, m := range box.Messages {
		threads[m.ThreadID] = true
	}
	return len(threads)
}
