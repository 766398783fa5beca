package mailstore

import (
	"strconv"
	"testing"
)

// TestRoomForCountsMessages: a mailbox of small messages is full at
// maxMailboxMessages, whatever their size; one fewer leaves room.
func TestRoomForCountsMessages(t *testing.T) {
	small := func(i int) *Message {
		return &Message{ID: strconv.Itoa(i), Raw: []byte("Subject: x\r\n\r\nx")}
	}
	messages := make([]*Message, maxMailboxMessages-1)
	for i := range messages {
		messages[i] = small(i)
	}
	box := newMailbox("bounded@example.com", "", messages)
	if err := box.RoomFor(small(-1)); err != nil {
		t.Fatalf("RoomFor with %d messages kept = %v; want room for one more", len(box.Messages), err)
	}
	box.Add(small(-1))
	// The API answers it 403 storageQuotaExceeded (TestMailboxIsBounded).
	if err := box.RoomFor(small(-2)); err == nil {
		t.Errorf("RoomFor with %d messages kept = nil; want the mailbox full", len(box.Messages))
	}
}
