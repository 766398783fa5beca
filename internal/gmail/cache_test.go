package gmail

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gmailoauth/internal/sandbox"
)

func TestCacheNeverCrossesAccounts(t *testing.T) {
	g := newSandboxGmail(t)
	accounts := []string{g.account(t, 0, 1), g.account(t, 1, 1)}
	want := map[string]Page{}
	for _, account := range accounts {
		want[account] = g.referencePage(t, account, 1)
	}
	cache := NewCache(1 << 20)
	svc, _ := newTestService(t, g.server, Config{Cache: cache})
	clients := map[string]*Client{}
	for _, account := range accounts {
		clients[account] = svc.Client(g.httpClient(account), account)
	}

	for _, account := range []string{accounts[0], accounts[1], accounts[0], accounts[1]} {
		page, err := clients[account].Unread(t.Context(), "", 1)
		if err != nil {
			t.Fatalf("Unread() of %s err = %v; want nil", account, err)
		}
		if !reflect.DeepEqual(comparablePage(page), want[account]) {
			t.Errorf("Unread() of %s = %+v; want %+v", account, page, want[account])
		}
	}
	for i, account := range accounts {
		id, other := want[account].Messages[0].ID, accounts[1-i]
		if got, ok := cache.Get(account, id, time.Now()); !ok || got.Subject != want[account].Messages[0].Subject {
			t.Errorf("cache.Get(%s, %s) = %q, %v; want %q, true", account, id, got.Subject, ok, want[account].Messages[0].Subject)
		}
		if got, ok := cache.Get(other, id, time.Now()); ok {
			t.Errorf("cache.Get(%s, %s of %s) = %q, true; want nothing", other, id, account, got.Subject)
		}
	}
	// Four lists, and one batch of one part per account.
	if got := g.Stats(); got.GmailCalls != 6 || got.BatchParts != 2 {
		t.Errorf("Unread() made %d Gmail calls, %d batch parts; want 6 and 2, one batch per account", got.GmailCalls, got.BatchParts)
	}
}

// TestCacheHitAvoidsMetadataCalls: a second Unread makes its list call and
// asks in one batch for the metadata of the message that failed and of the
// two new ones only.
func TestCacheHitAvoidsMetadataCalls(t *testing.T) {
	g := newSandboxGmail(t)
	account := g.account(t, 0, 5)
	want := g.referencePage(t, account, 5)
	svc, _ := newTestService(t, g.server, Config{Cache: NewCache(1 << 20)})
	client := svc.Client(g.httpClient(account), account)
	g.InjectFaults(sandbox.Fault{Call: "get", Status: 404})

	first, err := client.Unread(t.Context(), "", 3)
	if err != nil {
		t.Fatalf("first Unread() err = %v; want nil", err)
	}
	before := g.Stats()
	second, err := client.Unread(t.Context(), "", 5)
	if err != nil {
		t.Fatalf("second Unread() err = %v; want nil", err)
	}

	failed := slices.IndexFunc(first.Messages, func(s Summary) bool { return s.Err != nil })
	if failed < 0 || !errors.Is(first.Messages[failed].Err, ErrNotFound) {
		t.Fatalf("first Unread() = %+v; want one message with ErrNotFound", first.Messages)
	}
	for i, summary := range comparablePage(first).Messages {
		if i == failed {
			onlyIDs := Summary{ID: want.Messages[i].ID, ThreadID: want.Messages[i].ThreadID, Err: summary.Err}
			if !reflect.DeepEqual(summary, onlyIDs) {
				t.Errorf("failed summary = %+v; want only the IDs of %s and Err", summary, want.Messages[i].ID)
			}
			continue
		}
		if !reflect.DeepEqual(summary, want.Messages[i]) {
			t.Errorf("first Unread() message %d = %+v; want %+v", i, summary, want.Messages[i])
		}
	}
	// The failed message was not cached; 4 and 5 are new; the list
	// is never cached, since unread state changes.
	after := g.Stats()
	if calls, parts := after.GmailCalls-before.GmailCalls, after.BatchParts-before.BatchParts; calls != 2 || parts != 3 {
		t.Errorf("second Unread() made %d Gmail calls, %d batch parts; want 2 and 3", calls, parts)
	}
	if !reflect.DeepEqual(comparablePage(second), want) {
		t.Errorf("second Unread() = %+v; want %+v", second, want)
	}
}

// TestUnreadLearnsTheAccountBesideTheList: a Client made without an
// account (the first view after a sign-in) asks Gmail's profile beside the
// list and keys the cache by its answer, so the next view finds the
// metadata cached; when the profile call fails, nothing is cached, since
// no key would keep one account's entries from another's.
func TestUnreadLearnsTheAccountBesideTheList(t *testing.T) {
	for _, tt := range []struct {
		name        string
		profileDown bool
		wantAccount bool
		wantParts   int64 // batch parts of the second Unread
	}{
		{name: "profile answers", wantAccount: true, wantParts: 0},
		{name: "profile fails", profileDown: true, wantParts: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newSandboxGmail(t)
			account := g.account(t, 0, 2)
			cache := NewCache(1 << 20)
			svc, _ := newTestService(t, g.server, Config{Cache: cache, MaxAttempts: 1})
			if tt.profileDown {
				g.InjectFaults(sandbox.Fault{Call: "profile", Status: http.StatusServiceUnavailable})
			}
			page, err := svc.Client(g.httpClient(account), "").Unread(t.Context(), "", 2)
			if err != nil {
				t.Fatalf("Unread() err = %v; want nil", err)
			}
			if got := page.Account == account; got != tt.wantAccount {
				t.Errorf("Unread().Account = %q; want %q: %v", page.Account, account, tt.wantAccount)
			}
			g.ResetStats()
			if _, err := svc.Client(g.httpClient(account), page.Account).Unread(t.Context(), "", 2); err != nil {
				t.Fatalf("second Unread() err = %v; want nil", err)
			}
			if got := g.Stats().BatchParts; got != tt.wantParts {
				t.Errorf("second Unread() fetched %d messages' metadata; want %d", got, tt.wantParts)
			}
		})
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
				cache.Get(accountA, "m1", time.Now())
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
				if _, ok := cache.Get(accountA, id, time.Now()); ok {
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
				cache.Get(accountA, id, time.Now())
				cache.Len()
			}
		})
	}
	wg.Wait()

	if cache.Bytes() > cache.maxBytes {
		t.Errorf("cache.Bytes() = %d; want at most maxBytes = %d", cache.Bytes(), cache.maxBytes)
	}
}

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
			if _, ok := cache.Get(account, id, time.Now()); !ok {
				t.Errorf("%s's %s was evicted by %s paging; want it kept", account, id, accountA)
			}
		}
	}
	// A still gets the room nobody else uses, and its newest pages.
	if _, ok := cache.Get(accountA, "m0999", time.Now()); !ok || cache.Len() < 29 {
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
	if _, ok := cache.Get(accountB, "b0000", time.Now()); !ok {
		t.Errorf("B's b0000 evicted while A held more than its share")
	}
}
