package mailstore

import (
	"fmt"
)

// What one mailbox may keep. The sandbox shares the app's process, and
// before these bounds 40 inserts of 3.9 MB grew it from 18 to 416 MB in
// three seconds. The seeded mailboxes hold a few hundred kilobytes in at
// most 130 messages, so a test or a client's CI has room to spare.
const (
	maxMailboxMessages = 10_000
	maxMailboxBytes    = 16 << 20
)

// RoomFor refuses m, as a full account's storage does, when keeping it would take the mailbox over maxMailboxMessages
// or maxMailboxBytes. Callers hold box.Mu and call it before changing
// anything, so a refused write leaves no trace.
func (box *Mailbox) RoomFor(m *Message) error {
	kept := keptBytes(m)
	for _, other := range box.Messages {
		kept += keptBytes(other)
	}
	if len(box.Messages) < maxMailboxMessages && kept <= maxMailboxBytes {
		return nil
	}
	return fmt.Errorf("the user's storage quota has been exceeded: a sandbox mailbox keeps at most %d messages and %d MiB",
		maxMailboxMessages, maxMailboxBytes>>20)
}

// keptBytes is roughly what m holds in memory: its RFC 5322 form and what
// was decoded from it.
func keptBytes(m *Message) int {
	n := len(m.Raw) + len(m.Text) + len(m.HTML) + len(m.Snippet)
	for _, h := range m.Headers {
		n += len(h.Name) + len(h.Value)
	}
	for _, a := range m.Attachments {
		n += len(a.Filename) + len(a.MimeType) + len(a.Data)
	}
	return n
}
