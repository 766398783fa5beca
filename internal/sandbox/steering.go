package sandbox

import (
	"gmailoauth/internal/sandbox/gmailapi"
	"gmailoauth/internal/sandbox/mailstore"
)

// Fault describes how one Gmail call (or batch part) misbehaves: see
// InjectFaults and gmailapi.Fault's fields.
type Fault = gmailapi.Fault

// FaultRates makes Gmail calls, batch parts and outer batch requests fail
// at random, for load tests: see SetFaultRates and gmailapi.FaultRates.
type FaultRates = gmailapi.FaultRates

// Delivery is a message that Deliver puts in a mailbox, as mail arriving.
type Delivery = mailstore.Delivery

// InjectFaults queues faults. Each Gmail call or batch part consumes the first
// queued fault whose Call matches it, so faults fire in order. It panics on a
// Call or Status that could never be meant, since a typo would otherwise make
// a test silently pass.
func (s *Server) InjectFaults(faults ...Fault) {
	s.api.InjectFaults(faults...)
}

// SetFaultRates replaces the random fault rates; the zero value turns them off.
func (s *Server) SetFaultRates(rates FaultRates) {
	s.api.SetFaultRates(rates)
}

// ClearFaults drops every queued fault and turns random faults off.
func (s *Server) ClearFaults() {
	s.api.ClearFaults()
}

// ShuffleBatchResponses makes batch responses come back in an order other
// than the requests' whenever a batch has two parts or more. Google's guide
// warns that calls may run in any order, and a client must match responses
// by Content-ID; turning this on proves that it does.
func (s *Server) ShuffleBatchResponses(on bool) {
	s.api.ShuffleBatchResponses(on)
}

// Deliver puts a new unread message in account's inbox, as mail arriving
// from outside, and returns its ID. history.list reports it, and the next
// list shows it. An account that is not seeded gets a mailbox of its own.
func (s *Server) Deliver(account string, d Delivery) string {
	return s.store.Deliver(account, d, s.now())
}

// MarkRead takes UNREAD off account's message id, as opening it in Gmail
// does, and reports whether there was such a message.
func (s *Server) MarkRead(account, id string) bool {
	return s.store.MarkRead(account, id)
}
