package web

import (
	"testing"

	"gmailoauth/internal/i18n"
)

// TestPageCache checks what the inbox's page cache gives back: a page only
// to the view it was kept for (same account, language and place) that
// shows the same, and never more than its ceiling.
func TestPageCache(t *testing.T) {
	hanako := pageKey{account: "hanako@example.jp", lang: i18n.English}
	shown := inboxShown{head: inboxHead{Estimate: 2}, rows: []shownRow{{id: "a", when: "1 hour ago"}, {id: "b", when: "Nov 3"}}}
	kept := page{plain: make([]byte, 1000)}

	tests := []struct {
		name  string
		key   pageKey
		shown func() inboxShown
		want  bool
	}{
		{name: "the same view", key: hanako, shown: func() inboxShown { return shown }, want: true},
		{name: "another account", key: pageKey{account: "alex@example.com", lang: i18n.English}, shown: func() inboxShown { return shown }},
		{name: "another language", key: pageKey{account: hanako.account, lang: i18n.Japanese}, shown: func() inboxShown { return shown }},
		{name: "another page", key: pageKey{account: hanako.account, lang: i18n.English, token: "next"}, shown: func() inboxShown { return shown }},
		{name: "a date moved on", key: hanako, shown: func() inboxShown {
			moved := inboxShown{head: shown.head, rows: []shownRow{{id: "a", when: "2 hours ago"}, shown.rows[1]}}
			return moved
		}},
		{name: "new mail", key: hanako, shown: func() inboxShown {
			return inboxShown{head: inboxHead{Estimate: 3}, rows: append([]shownRow{{id: "c"}}, shown.rows...)}
		}},
		{name: "a row failed", key: hanako, shown: func() inboxShown {
			return inboxShown{head: shown.head, rows: []shownRow{shown.rows[0], {id: "b", failed: true}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newPageCache(1 << 20)
			c.put(hanako, shown, kept)
			if _, ok := c.get(tt.key, tt.shown()); ok != tt.want {
				t.Errorf("get = %v; want %v", ok, tt.want)
			}
		})
	}

	t.Run("bounded, least recently used first", func(t *testing.T) {
		c := newPageCache(3 * (1000 + 64*2))
		keys := []pageKey{{account: "a"}, {account: "b"}, {account: "c"}, {account: "d"}}
		for _, key := range keys[:3] {
			c.put(key, shown, kept)
		}
		c.get(keys[0], shown) // a is used again: b is now the oldest
		c.put(keys[3], shown, kept)
		for i, want := range []bool{true, false, true, true} {
			if _, ok := c.get(keys[i], shown); ok != want {
				t.Errorf("after a fourth page, page %s kept = %v; want %v", keys[i].account, ok, want)
			}
		}
		if c.bytes > c.maxBytes {
			t.Errorf("cache holds %d bytes; want at most %d", c.bytes, c.maxBytes)
		}
	})

	t.Run("a page over the ceiling is not kept", func(t *testing.T) {
		c := newPageCache(500)
		c.put(hanako, shown, kept)
		if _, ok := c.get(hanako, shown); ok || c.bytes != 0 {
			t.Errorf("a page of %d bytes in a cache of 500: kept %v, %d bytes held; want none", len(kept.plain), ok, c.bytes)
		}
	})
}
