package gmail

import (
	"container/list"
	"sync"
)

// cacheEntryOverhead approximates the bytes an entry costs beyond its
// strings: the map slot, the list element, the Summary and key headers.
const cacheEntryOverhead = 256

// Cache is a size-bounded LRU cache of message Summaries, shared by the
// Clients of a Service. Entries are keyed by (account, message ID), so one
// account never sees another's. It holds metadata only, which does not
// change; the unread flag does change and is not kept. Beside a summary it
// keeps what the caller made of it (SetRendering), such as the message's
// row of HTML, within the same byte ceiling and under the same key. It is
// safe for concurrent use.
type Cache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	recency  *list.List // of *cacheEntry, most recently used first
	entries  map[cacheKey]*list.Element
}

type cacheKey struct {
	account string
	id      string
}

type cacheEntry struct {
	key        cacheKey
	summary    Summary
	size       int64 // the summary's and every rendering's
	renderings map[string]rendering
}

type rendering struct {
	value any
	size  int64
}

// NewCache returns a cache holding at most maxBytes of summaries, as
// approximated by their strings plus a fixed overhead per entry. A maxBytes
// ≤ 0 holds nothing.
func NewCache(maxBytes int64) *Cache {
	return &Cache{
		maxBytes: maxBytes,
		recency:  list.New(),
		entries:  make(map[cacheKey]*list.Element),
	}
}

// Get returns account's cached summary of message id (with Unread false)
// and marks it recently used.
func (c *Cache) Get(account, id string) (Summary, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	element, ok := c.entries[cacheKey{account: account, id: id}]
	if !ok {
		return Summary{}, false
	}
	c.recency.MoveToFront(element)
	return element.Value.(*cacheEntry).summary, true
}

// Put caches s for account, evicting the least recently used entries past
// MaxBytes. Summaries with Err set, without an ID, for account "" or larger
// than MaxBytes on their own are not cached.
func (c *Cache) Put(account string, s Summary) {
	if account == "" || s.ID == "" || s.Err != nil {
		return
	}
	s.Unread = false
	key := cacheKey{account: account, id: s.ID}
	size := entrySize(key, s)

	c.mu.Lock()
	defer c.mu.Unlock()
	if element, ok := c.entries[key]; ok {
		c.remove(element)
	}
	if size > c.maxBytes {
		return
	}
	c.entries[key] = c.recency.PushFront(&cacheEntry{key: key, summary: s, size: size})
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.remove(c.recency.Back())
	}
}

// Rendering returns the value stored with SetRendering under key for
// account's cached message id, and marks the message recently used. It is
// gone when the message's summary is.
func (c *Cache) Rendering(account, id, key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	element, ok := c.entries[cacheKey{account: account, id: id}]
	if !ok {
		return nil, false
	}
	c.recency.MoveToFront(element)
	r, ok := element.Value.(*cacheEntry).renderings[key]
	return r.value, ok
}

// SetRendering keeps value, which takes about size bytes, under key beside
// account's cached summary of message id, replacing what was there; the
// size counts toward MaxBytes. Without a cached summary it keeps nothing:
// a rendering lives no longer than what it was made from.
func (c *Cache) SetRendering(account, id, key string, value any, size int64) {
	size += int64(len(key)) + cacheEntryOverhead/4
	c.mu.Lock()
	defer c.mu.Unlock()
	element, ok := c.entries[cacheKey{account: account, id: id}]
	if !ok {
		return
	}
	entry := element.Value.(*cacheEntry)
	if old, ok := entry.renderings[key]; ok {
		entry.size -= old.size
		c.bytes -= old.size
	}
	if entry.renderings == nil {
		entry.renderings = map[string]rendering{}
	}
	entry.renderings[key] = rendering{value: value, size: size}
	entry.size += size
	c.bytes += size
	c.recency.MoveToFront(element)
	for c.bytes > c.maxBytes {
		c.remove(c.recency.Back())
	}
}

// remove drops element; c.mu must be held.
func (c *Cache) remove(element *list.Element) {
	entry := c.recency.Remove(element).(*cacheEntry)
	delete(c.entries, entry.key)
	c.bytes -= entry.size
}

// Len returns the number of cached summaries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Bytes returns the approximate size of the cached summaries and their
// renderings.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// MaxBytes returns the size the cache stays within.
func (c *Cache) MaxBytes() int64 { return c.maxBytes }

func entrySize(key cacheKey, s Summary) int64 {
	// key.id shares its bytes with s.ID, so it is not counted again.
	texts := []string{key.account, s.ID, s.ThreadID, s.From.Name, s.From.Email, s.Subject, s.Snippet}
	size := int64(cacheEntryOverhead)
	for _, text := range texts {
		size += int64(len(text))
	}
	return size
}
