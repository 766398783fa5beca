package sandbox

import (
	"net/http"
	"strconv"
	"testing"
)

// TestRoomForCountsMessages: a mailbox of small messages is full at
// maxMailboxMessages, whatever their size; one fewer leaves room.
func TestRoomForCountsMessages(t *testing.T) {
	small := func(i int) *message {
		return &message{id: strconv.Itoa(i), raw: []byte("Subject: x\r\n\r\nx")}
	}
	messages := make([]*message, maxMailboxMessages-1)
	for i := range messages {
		messages[i] = small(i)
	}
	box := newMailbox("bounded@example.com", "", messages)
	if apiErr := box.roomFor(small(-1)); apiErr != nil {
		t.Fatalf("roomFor with %d messages kept = %+v; want room for one more", len(box.messages), apiErr)
	}
	box.add(small(-1))
	if apiErr := box.roomFor(small(-2)); apiErr == nil || apiErr.Code != http.StatusForbidden {
		t.Errorf("roomFor with %d messages kept = %+v; want 403 storageQuotaExceeded", len(box.messages), apiErr)
	}
}
