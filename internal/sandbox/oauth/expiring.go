package oauth

import (
	"container/list"
	"time"
)

// expiring is a map whose entries expire in the order they were stored (the
// sandbox gives every entry of one kind the same lifetime) and which holds
// at most max of them: storing into a full one drops the oldest. Expired
// entries are swept from the front on every store and take, so memory
// follows the live entries, not the history.
type expiring[V any] struct {
	max     int
	entries map[string]*list.Element
	order   list.List // of *expiringEntry[V], oldest first
}

type expiringEntry[V any] struct {
	key    string
	value  V
	expiry time.Time
}

func (e *expiring[V]) init(max int) {
	e.max = max
	e.entries = make(map[string]*list.Element)
	e.order.Init()
}

func (e *expiring[V]) len() int { return len(e.entries) }

// sweep drops expired entries from the front.
func (e *expiring[V]) sweep(now time.Time) {
	for front := e.order.Front(); front != nil; front = e.order.Front() {
		entry := front.Value.(*expiringEntry[V])
		if now.Before(entry.expiry) {
			return
		}
		e.remove(front)
	}
}

func (e *expiring[V]) remove(el *list.Element) {
	delete(e.entries, el.Value.(*expiringEntry[V]).key)
	e.order.Remove(el)
}

func (e *expiring[V]) put(key string, value V, expiry, now time.Time) {
	e.sweep(now)
	for len(e.entries) >= e.max {
		e.remove(e.order.Front())
	}
	e.entries[key] = e.order.PushBack(&expiringEntry[V]{key: key, value: value, expiry: expiry})
}

// get returns the live entry under key.
func (e *expiring[V]) get(key string, now time.Time) (V, bool) {
	e.sweep(now)
	el, ok := e.entries[key]
	if !ok || !now.Before(el.Value.(*expiringEntry[V]).expiry) {
		var zero V
		return zero, false
	}
	return el.Value.(*expiringEntry[V]).value, true
}

// take returns the live entry under key and forgets it.
func (e *expiring[V]) take(key string, now time.Time) (V, bool) {
	value, ok := e.get(key, now)
	if el, found := e.entries[key]; found {
		e.remove(el)
	}
	return value, ok
}
