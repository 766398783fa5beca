package gmail

import (
	"container/list"
	"sync"
	"time"

	"gmailoauth/internal/metrics"
)

// cacheEntryOverhead approximates the bytes an entry costs beyond its
// strings: the map slot, the list element, the Summary and key headers.
const cacheEntryOverhead = 256

// Cache is a size-bounded LRU cache of message Summaries, shared by the
// Clients of a Service. Entries are keyed by (account, message ID), so one
// account never sees another's. It holds metadata only, which does not
// change; the unread flag does change and is not kept. For a while it also
// remembers a message whose metadata failed in a way that asking again
// would repeat (remember). It is safe for concurrent use.
//
// Eviction is fair between accounts: an account holding more than its fair
// share (the ceiling given to NewCache divided among the accounts cached) makes room by evicting
// its own least recently used entries, so one person paging far back
// cannot push everyone else's entries out. Below its share, an account
// makes room by evicting the least recently used entry of anyone.
type Cache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	recency  *list.List // of *cacheEntry, most recently used first
	entries  map[cacheKey]*list.Element
	accounts map[string]*accountEntries
	// Lookups (Get), for the metrics.
	hits, misses uint64
}

// accountEntries is one account's part of the cache, in its own recency
// order, so its oldest entry is found without a search.
type accountEntries struct {
	bytes   int64
	recency *list.List // of *list.Element of Cache.recency, most recent first
}

type cacheKey struct {
	account string
	id      string
}

type cacheEntry struct {
	key     cacheKey
	own     *list.Element // in its account's recency
	summary Summary
	until   time.Time // when a remembered failure (summary.Err set) is forgotten
	size    int64
}

// NewCache returns a cache holding at most maxBytes of summaries, as
// approximated by their strings plus a fixed overhead per entry. A maxBytes
// ≤ 0 holds nothing.
func NewCache(maxBytes int64) *Cache {
	return &Cache{
		maxBytes: maxBytes,
		recency:  list.New(),
		entries:  make(map[cacheKey]*list.Element),
		accounts: make(map[string]*accountEntries),
	}
}

// Get returns account's cached summary of message id, or the failure
// remembered for it (Err set) until its time is up at now, and marks it
// recently used.
func (c *Cache) Get(account, id string, now time.Time) (Summary, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	element, ok := c.entries[cacheKey{account: account, id: id}]
	if ok && element.Value.(*cacheEntry).forgotten(now) {
		c.remove(element)
		ok = false
	}
	if !ok {
		c.misses++
		return Summary{}, false
	}
	c.hits++
	c.touch(element)
	return element.Value.(*cacheEntry).summary, true
}

// forgotten reports whether e is a remembered failure whose time is up at
// now.
func (e *cacheEntry) forgotten(now time.Time) bool {
	return e.summary.Err != nil && !now.Before(e.until)
}

// Put caches s for account, evicting entries past the ceiling as the Cache
// describes. Summaries with Err set, without an ID, for account "" or
// larger than the ceiling on their own are not cached.
func (c *Cache) Put(account string, s Summary) {
	if s.Err != nil {
		return
	}
	c.put(account, s, time.Time{})
}

// remember keeps failed, a summary with Err set, for account until then,
// as Put keeps a summary: Get serves it meanwhile, so the message is not
// asked for again.
func (c *Cache) remember(account string, failed Summary, until time.Time) {
	if failed.Err == nil {
		return
	}
	c.put(account, failed, until)
}

func (c *Cache) put(account string, s Summary, until time.Time) {
	if account == "" || s.ID == "" {
		return
	}
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
	entry := &cacheEntry{key: key, summary: s, until: until}
	element := c.recency.PushFront(entry)
	c.entries[key] = element
	owner := c.accounts[account]
	if owner == nil {
		owner = &accountEntries{recency: list.New()}
		c.accounts[account] = owner
	}
	entry.own = owner.recency.PushFront(element)
	c.grow(entry, size)
}

// touch marks element most recently used; c.mu must be held.
func (c *Cache) touch(element *list.Element) {
	entry := element.Value.(*cacheEntry)
	c.recency.MoveToFront(element)
	c.accounts[entry.key.account].recency.MoveToFront(entry.own)
}

// grow adds delta bytes to entry, then evicts until the cache fits: from
// entry's own account while it holds more than its fair share, else the
// least recently used entry of any account. c.mu must be held.
func (c *Cache) grow(entry *cacheEntry, delta int64) {
	owner := c.accounts[entry.key.account]
	entry.size += delta
	owner.bytes += delta
	c.bytes += delta
	for c.bytes > c.maxBytes {
		victim := c.recency.Back()
		if owner.bytes > c.maxBytes/int64(len(c.accounts)) {
			victim = owner.recency.Back().Value.(*list.Element)
		}
		c.remove(victim)
	}
}

// remove drops element; c.mu must be held.
func (c *Cache) remove(element *list.Element) {
	entry := c.recency.Remove(element).(*cacheEntry)
	delete(c.entries, entry.key)
	c.bytes -= entry.size
	owner := c.accounts[entry.key.account]
	owner.recency.Remove(entry.own)
	owner.bytes -= entry.size
	if owner.recency.Len() == 0 {
		delete(c.accounts, entry.key.account)
	}
}

// Len returns the number of cached summaries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Bytes returns the approximate size of the cached summaries.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

func entrySize(key cacheKey, s Summary) int64 {
	// key.id shares its bytes with s.ID, so it is not counted again.
	texts := []string{key.account, s.ID, s.ThreadID, s.From.Name, s.From.Email, s.Subject, s.Snippet}
	size := int64(cacheEntryOverhead)
	for _, text := range texts {
		size += int64(len(text))
	}
	return size
}

// Stats is what the cache has served and holds, for the metrics.
func (c *Cache) Stats() metrics.CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return metrics.CacheStats{
		Hits:   map[string]uint64{"metadata": c.hits},
		Misses: map[string]uint64{"metadata": c.misses},
		Bytes:  c.bytes,
	}
}
