package web

import (
	"container/list"
	"slices"
	"sync"

	"gmailoauth/internal/i18n"
)

// pageCache keeps the inbox pages last rendered, whole and gzipped, so that
// a repeat view that shows the same is the list call and a write: a
// 50-row page takes about a millisecond of CPU to render and compress, and
// a busy person reloads it. A page is kept under whose it is, in which
// language and where in the list (pageKey), with what it shows
// (inboxShown); a view that would show anything else renders again and
// takes its place. It holds at most maxBytes of pages, and makes room by
// dropping the page used least recently. It is safe for concurrent use.
type pageCache struct {
	mu           sync.Mutex
	maxBytes     int64
	bytes        int64
	recency      *list.List // of *keptPage, most recently used first
	pages        map[pageKey]*list.Element
	hits, misses uint64
}

// pageKey is where a kept page belongs: account's inbox, in lang, at the
// Gmail page token ("" for the newest page).
type pageKey struct {
	account string
	lang    i18n.Lang
	token   string
}

// inboxShown is everything an inbox page shows: its head, and each row's
// message with the relative date it shows. A message's details never
// change, so its ID stands for them; a row that failed shows none.
type inboxShown struct {
	head inboxHead
	rows []shownRow
}

type shownRow struct {
	id, when string
	failed   bool
}

func (a inboxShown) equal(b inboxShown) bool {
	return a.head == b.head && slices.Equal(a.rows, b.rows)
}

type keptPage struct {
	key   pageKey
	shown inboxShown
	page  page
}

func (k *keptPage) size() int64 {
	return int64(len(k.page.plain) + len(k.page.gzipped) + 64*len(k.shown.rows))
}

func newPageCache(maxBytes int64) *pageCache {
	return &pageCache{maxBytes: maxBytes, recency: list.New(), pages: map[pageKey]*list.Element{}}
}

// get returns the page kept under key if it shows shown.
func (c *pageCache) get(key pageKey, shown inboxShown) (page, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	element, ok := c.pages[key]
	if !ok || !element.Value.(*keptPage).shown.equal(shown) {
		c.misses++
		return page{}, false
	}
	c.hits++
	c.recency.MoveToFront(element)
	return element.Value.(*keptPage).page, true
}

// put keeps p, which shows shown, under key, in place of what was kept
// there, and drops the pages used least recently beyond maxBytes. A page
// larger than maxBytes on its own is not kept.
func (c *pageCache) put(key pageKey, shown inboxShown, p page) {
	kept := &keptPage{key: key, shown: shown, page: p}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.pages[key]; ok {
		c.drop(old)
	}
	if kept.size() > c.maxBytes {
		return
	}
	c.pages[key] = c.recency.PushFront(kept)
	c.bytes += kept.size()
	for c.bytes > c.maxBytes {
		c.drop(c.recency.Back())
	}
}

func (c *pageCache) drop(element *list.Element) {
	kept := c.recency.Remove(element).(*keptPage)
	delete(c.pages, kept.key)
	c.bytes -= kept.size()
}

// lookups is how many gets found their page, and how many did not.
func (c *pageCache) lookups() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}
