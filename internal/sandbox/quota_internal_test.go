package sandbox

import (
	"net/http"
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
	if apiErr := box.RoomFor(small(-1)); apiErr != nil {
		t.Fatalf("roomFor with %d messages kept = %+v; want room for one more", len(box.Messages), apiErr)
	}
	box.Add(small(-1))
	if apiErr := box.RoomFor(small(-2)); apiErr == nil || apiErr.Code != http.StatusForbidden {
		t.Errorf("roomFor with %d messages kept = %+v; want 403 storageQuotaExceeded", len(box.Messages), apiErr)
	}
}
