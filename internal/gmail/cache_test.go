package gmail

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestCacheNeverCrossesAccounts(t *testing.T) {
	forA, forB := testMessage(1), testMessage(1)
	forA.Headers = []Header{{"Subject", "for A"}}
	forB.Headers = []Header{{"Subject", "for B"}}
	fake := newFakeGmail(t)
	fake.mailboxes = map[string][]fakeMessage{tokenA: {forA}, tokenB: {forB}}
	server := fake.start()
	cache := NewCache(1 << 20)
	svc, _ := newTestService(t, server, Config{Cache: cache})
	clients := map[string]*Client{
		accountA: svc.Client(authorizedClient(server, tokenA), accountA),
		accountB: svc.Client(authorizedClient(server, tokenB), accountB),
	}
	wantSubject := map[string]string{accountA: "for A", accountB: "for B"}

	for _, account := range []string{accountA, accountB, accountA, accountB} {
		page, err := clients[account].Unread(t.Context(), "", 10)
		if err != nil || len(page.Messages) != 1 {
			t.Fatalf("Unread() of %s = %+v, %v; want 1 message", account, page.Messages, err)
		}
		if got := page.Messages[0].Subject; got != wantSubject[account] {
			t.Errorf("Unread() of %s Subject = %q; want %q", account, got, wantSubject[account])
		}
	}
	for account, want := range wantSubject {
		if got, ok := cache.Get(account, forA.ID); !ok || got.Subject != want {
			t.Errorf("cache.Get(%s, %s) = %q, %v; want %q, true", account, forA.ID, got.Subject, ok, want)
		}
	}
	if got := fake.batchCalls.Load(); got != 2 {
		t.Errorf("Unread() made %d batch calls; want 2, one per account", got)
	}
}

func TestCacheHitAvoidsMetadataCalls(t *testing.T) {
	tests := []struct {
		name     string
		strategy Strategy
		calls    func(fake *fakeGmail) int32
	}{
		{"batch", Batch, func(fake *fakeGmail) int32 { return fake.batchCalls.Load() }},
		{"concurrent", Concurrent, func(fake *fakeGmail) int32 { return fake.getCalls.Load() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mailbox := testMessages(5)
			fake := newFakeGmail(t, mailbox...).script("message "+mailbox[1].ID, googleError(404, "notFound", "gone"))
			client, _ := newTestClient(t, fake.start(), Config{Strategy: tt.strategy, Cache: NewCache(1 << 20)})

			first, err := client.Unread(t.Context(), "", 3)
			if err != nil {
				t.Fatalf("first Unread() err = %v; want nil", err)
			}
			callsBefore := tt.calls(fake)
			second, err := client.Unread(t.Context(), "", 5)
			if err != nil {
				t.Fatalf("second Unread() err = %v; want nil", err)
			}

			// Message 2 failed, so it was not cached; 4 and 5 are new.
			wantCalls := map[Strategy]int32{Batch: 1, Concurrent: 3}[tt.strategy]
			if got := tt.calls(fake) - callsBefore; got != wantCalls {
				t.Errorf("second Unread() made %d metadata calls; want %d", got, wantCalls)
			}
			if got := fake.listCalls.Load(); got != 2 {
				t.Errorf("Unread() twice listed %d times; want 2: unread state changes", got)
			}
			if !errors.Is(first.Messages[1].Err, ErrNotFound) || second.Messages[1].Err != nil {
				t.Errorf("message 2 Err = %v, then %v; want ErrNotFound, then nil", first.Messages[1].Err, second.Messages[1].Err)
			}
			for i, summary := range second.Messages {
				checkSummary(t, summary, mailbox[i], nil)
			}
		})
	}
}

func TestCacheDisabledForEmptyAccount(t *testing.T) {
	fake := newFakeGmail(t, testMessages(2)...)
	server := fake.start()
	cache := NewCache(1 << 20)
	svc, _ := newTestService(t, server, Config{Cache: cache})
	client := svc.Client(authorizedClient(server, tokenA), "")

	for range 2 {
		if _, err := client.Unread(t.Context(), "", 10); err != nil {
			t.Fatalf("Unread() err = %v; want nil", err)
		}
	}

	if got := fake.batchCalls.Load(); got != 2 || cache.Len() != 0 {
		t.Errorf("Unread() twice made %d batch calls, cached %d; want 2 and 0", got, cache.Len())
	}
}

func summaryOfSize(id string, subjectBytes int) Summary {
	return Summary{ID: id, Subject: strings.Repeat("s", subjectBytes)}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	entry := entrySize(cacheKey{account: accountA, id: "m1"}, summaryOfSize("m1", 100))
	tests := []struct {
		name     string
		maxBytes int64
		steps    func(cache *Cache)
		want     []string // IDs of account A still cached
	}{
		{
			name:     "oldest goes first",
			maxBytes: 2 * entry,
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.Put(accountA, summaryOfSize("m2", 100))
				cache.Put(accountA, summaryOfSize("m3", 100))
			},
			want: []string{"m2", "m3"},
		},
		{
			name:     "a Get makes an entry recent",
			maxBytes: 2 * entry,
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.Put(accountA, summaryOfSize("m2", 100))
				cache.Get(accountA, "m1")
				cache.Put(accountA, summaryOfSize("m3", 100))
			},
			want: []string{"m1", "m3"},
		},
		{
			name:     "replacing an entry frees its old size",
			maxBytes: 2 * entry,
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.Put(accountA, summaryOfSize("m2", 100))
				cache.Put(accountA, summaryOfSize("m2", 50))
			},
			want: []string{"m1", "m2"},
		},
		{
			name:     "one large entry evicts several",
			maxBytes: 3 * entry,
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.Put(accountA, summaryOfSize("m2", 100))
				cache.Put(accountA, summaryOfSize("m3", 100))
				cache.Put(accountA, summaryOfSize("big", int(2*entry)))
			},
			want: []string{"big"},
		},
		{
			name:     "an entry larger than the cache is not kept",
			maxBytes: entry,
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.Put(accountA, summaryOfSize("huge", int(entry)))
			},
			want: []string{"m1"},
		},
		{
			name:     "failed, ID-less and account-less summaries are not kept",
			maxBytes: 10 * entry,
			steps: func(cache *Cache) {
				cache.Put(accountA, Summary{ID: "failed", Err: ErrNotFound})
				cache.Put(accountA, Summary{})
				cache.Put("", summaryOfSize("m1", 1))
			},
		},
		{
			name:     "a cache of no bytes holds nothing",
			maxBytes: 0,
			steps:    func(cache *Cache) { cache.Put(accountA, summaryOfSize("m1", 1)) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := NewCache(tt.maxBytes)

			tt.steps(cache)

			var got []string
			for _, id := range []string{"m1", "m2", "m3", "big", "huge", "failed", ""} {
				if _, ok := cache.Get(accountA, id); ok {
					got = append(got, id)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || cache.Len() != len(tt.want) {
				t.Errorf("cache holds %v (Len %d); want %v", got, cache.Len(), tt.want)
			}
			if cache.Bytes() > cache.maxBytes || cache.Bytes() < 0 {
				t.Errorf("cache.Bytes() = %d; want 0..maxBytes = %d", cache.Bytes(), cache.maxBytes)
			}
		})
	}
}

func TestCacheIsSafeForConcurrentUse(t *testing.T) {
	cache := NewCache(20 * cacheEntryOverhead)
	var wg sync.WaitGroup
	for worker := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := fmt.Sprintf("m%d", (worker*7+i)%50)
				cache.Put(accountA, summaryOfSize(id, i%30))
				cache.Get(accountA, id)
				cache.Len()
			}
		})
	}
	wg.Wait()

	if cache.Bytes() > cache.maxBytes {
		t.Errorf("cache.Bytes() = %d; want at most maxBytes = %d", cache.Bytes(), cache.maxBytes)
	}
}

func TestCacheRenderings(t *testing.T) {
	entry := entrySize(cacheKey{account: accountA, id: "m1"}, summaryOfSize("m1", 100))
	tests := []struct {
		name  string
		steps func(cache *Cache)
		// want is what Rendering(account, id, "en") finds, by "account/id".
		want      map[string]any
		wantBytes int64 // of the cache; 0 means not checked
	}{
		{
			name: "kept beside the summary, for its account only",
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.SetRendering(accountA, "m1", "en", "row of A", 8)
			},
			want: map[string]any{accountA + "/m1": "row of A", accountB + "/m1": nil},
		},
		{
			name: "other keys are other renderings",
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.SetRendering(accountA, "m1", "ja", "行", 3)
			},
			want: map[string]any{accountA + "/m1": nil},
		},
		{
			name: "nothing kept without a summary",
			steps: func(cache *Cache) {
				cache.SetRendering(accountA, "m1", "en", "row", 3)
			},
			want: map[string]any{accountA + "/m1": nil},
		},
		{
			name: "a replaced rendering's bytes are returned",
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.SetRendering(accountA, "m1", "en", "long row", 200)
				cache.SetRendering(accountA, "m1", "en", "short", 5)
			},
			want:      map[string]any{accountA + "/m1": "short"},
			wantBytes: entry + 5 + int64(len("en")) + cacheEntryOverhead/4,
		},
		{
			name: "renderings count toward the ceiling and evict the oldest",
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.Put(accountA, summaryOfSize("m2", 100))
				cache.SetRendering(accountA, "m2", "en", "big", entry/2)
			},
			want: map[string]any{accountA + "/m1": nil, accountA + "/m2": "big"},
		},
		{
			name: "a rendering goes with its summary",
			steps: func(cache *Cache) {
				cache.Put(accountA, summaryOfSize("m1", 100))
				cache.SetRendering(accountA, "m1", "en", "row", 3)
				cache.Put(accountA, summaryOfSize("m1", 100))
			},
			want:      map[string]any{accountA + "/m1": nil},
			wantBytes: entry,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := NewCache(2 * entry)
			tt.steps(cache)
			for key, want := range tt.want {
				account, id, _ := strings.Cut(key, "/")
				got, ok := cache.Rendering(account, id, "en")
				if got != want || ok != (want != nil) {
					t.Errorf("Rendering(%s, %s, en) = %v, %v; want %v", account, id, got, ok, want)
				}
			}
			if tt.wantBytes != 0 && cache.Bytes() != tt.wantBytes {
				t.Errorf("Bytes() = %d; want %d", cache.Bytes(), tt.wantBytes)
			}
			if cache.Bytes() > cache.maxBytes {
				t.Errorf("Bytes() = %d; want at most maxBytes = %d", cache.Bytes(), cache.maxBytes)
			}
		})
	}
}

// One account paging far back fills the cache with its own entries; past
// its fair share it evicts only those, never the other accounts'.
func TestCacheSharesFairlyBetweenAccounts(t *testing.T) {
	const accountC = "carol@example.com"
	entry := entrySize(cacheKey{account: accountA, id: "m0000"}, summaryOfSize("m0000", 100))
	cache := NewCache(30 * entry)
	for i := range 5 {
		cache.Put(accountB, summaryOfSize(fmt.Sprintf("b%04d", i), 100))
		cache.Put(accountC, summaryOfSize(fmt.Sprintf("c%04d", i), 100))
	}
	for i := range 1000 { // twenty pages of 50, far more than the cache holds
		cache.Put(accountA, summaryOfSize(fmt.Sprintf("m%04d", i), 100))
	}
	for _, account := range []string{accountB, accountC} {
		for i := range 5 {
			id := fmt.Sprintf("%c%04d", account[0], i)
			if _, ok := cache.Get(account, id); !ok {
				t.Errorf("%s's %s was evicted by %s paging; want it kept", account, id, accountA)
			}
		}
	}
	// A still gets the room nobody else uses, and its newest pages.
	if _, ok := cache.Get(accountA, "m0999"); !ok || cache.Len() < 29 {
		t.Errorf("after paging: A's newest cached %v, %d entries; want true and the cache about full (≥ 29)", ok, cache.Len())
	}
	if cache.Bytes() > cache.maxBytes {
		t.Errorf("Bytes() = %d; want at most maxBytes = %d", cache.Bytes(), cache.maxBytes)
	}

	// Below its share, an account takes room from the least recently used
	// entries, whoever's they are: here A's, the largest.
	for i := range 8 {
		cache.Put(accountC, summaryOfSize(fmt.Sprintf("c%04d", 5+i), 100))
	}
	if _, ok := cache.Get(accountB, "b0000"); !ok {
		t.Errorf("B's b0000 evicted while A held more than its share")
	}
}
