package sandbox_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/encword"
	"gmailoauth/internal/sandbox"
)

// found is what a search test knows of a message that matched.
type found struct {
	id, from, to, subject string
	labels                []string
	at                    time.Time
}

// search lists what q finds in account's mailbox, every page, and reads
// each message's headers, From and Subject decoded as a reader sees them.
func (f *fixture) search(t *testing.T, token, q string) []found {
	t.Helper()
	var all []found
	for _, id := range f.listAll(t, token, "q="+url.QueryEscape(q)) {
		resp := f.gmail(t, token, listPath+"/"+id+"?format=metadata&metadataHeaders=From&metadataHeaders=To&metadataHeaders=Subject")
		wantStatus(t, resp, http.StatusOK)
		var m messageResource
		resp.decode(t, &m)
		ms, _ := strconv.ParseInt(m.InternalDate, 10, 64)
		got := found{id: id, labels: m.LabelIDs, at: time.UnixMilli(ms)}
		for _, h := range m.Payload.Headers {
			switch h.Name {
			case "From":
				got.from = encword.Decode(h.Value)
			case "To":
				got.to = h.Value
			case "Subject":
				got.subject = encword.Decode(h.Value)
			}
		}
		all = append(all, got)
	}
	return all
}

// TestSearchOperators runs each Gmail search operator clients use against
// Hanako's seeded mail: every message found must satisfy the operator,
// and the messages named must be among them.
func TestSearchOperators(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	now := f.clock.Now()
	has := func(label string) func(found) bool {
		return func(m found) bool { return slices.Contains(m.labels, label) }
	}
	from := func(who ...string) func(found) bool {
		return func(m found) bool {
			return slices.ContainsFunc(who, func(w string) bool { return strings.Contains(strings.ToLower(m.from), w) })
		}
	}
	pst := time.FixedZone("PST", -8*60*60)
	yesterday := now.In(pst).AddDate(0, 0, -1)
	dayBefore := time.Date(yesterday.Year(), yesterday.Month(), yesterday.Day(), 0, 0, 0, 0, pst)
	tests := []struct {
		q        string
		every    func(found) bool
		includes []string // subjects among the results
		excludes []string // subjects not among them
		count    int      // when not 0, exactly this many
	}{
		{q: "from:olivia.brown", every: from("olivia"), includes: []string{"Lunch tomorrow?", "Conference tickets"}},
		{q: "from:佐藤", every: from("佐藤"), includes: []string{"Re: 来週の打ち合わせ日程", "来週の打ち合わせ日程"}},
		{q: "to:ken.sato@example.co.jp", every: func(m found) bool { return strings.Contains(m.to, "ken.sato") }, includes: []string{"Re: 来週の打ち合わせ日程"}},
		{q: "subject:kickoff", every: func(m found) bool { return strings.Contains(strings.ToLower(m.subject), "kickoff") }, count: 2},
		{q: `subject:"Project kickoff"`, every: func(m found) bool { return strings.Contains(m.subject, "Project kickoff") }, count: 2},
		{q: "label:important", every: has("IMPORTANT"), includes: []string{"会議の議事録について"}},
		{q: "is:unread", every: has("UNREAD"), count: 75},
		{q: "is:read", every: func(m found) bool { return !slices.Contains(m.labels, "UNREAD") }, includes: []string{"Project kickoff"}, count: 130 - 2 - 75}, // spam and trash hidden
		{q: "is:starred", every: has("STARRED"), includes: []string{"Conference tickets", "Photos from the trip"}},
		{q: "is:important", every: has("IMPORTANT")},
		{q: "in:inbox", every: has("INBOX"), excludes: []string{"You have WON a $1,000 gift card!!!"}},
		{q: "in:spam", every: has("SPAM"), includes: []string{"You have WON a $1,000 gift card!!!"}, count: 1},
		{q: "in:trash", every: has("TRASH"), includes: []string{"Flash sale ends tonight"}, count: 1},
		{q: "in:anywhere", count: 130},
		{q: "after:" + dayBefore.Format("2006/01/02"), every: func(m found) bool { return !m.at.Before(dayBefore) }, includes: []string{"Re: 来週の打ち合わせ日程"}, excludes: []string{"Project kickoff"}},
		{q: "before:" + dayBefore.Format("2006/01/02"), every: func(m found) bool { return m.at.Before(dayBefore) }, includes: []string{"Project kickoff"}},
		{q: "newer_than:1d", every: func(m found) bool { return now.Sub(m.at) < 24*time.Hour }, includes: []string{"Lunch tomorrow?"}},
		{q: "older_than:1y", every: func(m found) bool { return now.Sub(m.at) >= 365*24*time.Hour }},
		{q: "has:attachment", includes: []string{"Conference tickets"}, count: 1},
		{q: `"Fushimi Inari"`, includes: []string{"Photos from the trip"}, count: 1},
		{q: "from:olivia OR from:emily", every: from("olivia", "emily"), includes: []string{"Lunch tomorrow?", `<script>alert("x")</script> Quarterly report`}},
		{q: "{from:olivia from:emily}", every: from("olivia", "emily"), includes: []string{"Lunch tomorrow?", `<script>alert("x")</script> Quarterly report`}},
		{q: "is:unread -from:olivia", every: func(m found) bool { return slices.Contains(m.labels, "UNREAD") && !from("olivia")(m) }, excludes: []string{"Lunch tomorrow?"}, count: 74},
		{q: "is:starred (from:olivia OR from:alex)", every: func(m found) bool { return slices.Contains(m.labels, "STARRED") && from("olivia", "alex")(m) },
			includes: []string{"Conference tickets", "Photos from the trip"}, count: 2},
		{q: "from:nobody.at.all", count: 0, every: func(found) bool { return false }},

		// "me" is the signed-in account: "Search operators you can use
		// with Gmail" (support.google.com/mail/answer/7190), and the Gmail
		// API's userId takes "me" the same way.
		{q: "from:me", every: func(m found) bool { return strings.Contains(m.from, hanako) }, includes: []string{"Re: 来週の打ち合わせ日程"}, count: 1},
		{q: "to:me", every: func(m found) bool { return strings.Contains(m.to, hanako) }, includes: []string{"Lunch tomorrow?"}, count: 127},
		// Grouping: answer/7190 gives subject:(dinner movie), a subject
		// with both words.
		{q: "subject:(project kickoff)", every: func(m found) bool {
			return strings.Contains(m.subject, "Project") && strings.Contains(m.subject, "kickoff")
		}, count: 2},
		{q: "subject:(kickoff OR lunch)", includes: []string{"Project kickoff", "Lunch tomorrow?"}, excludes: []string{"Conference tickets"}, count: 3},
		{q: "subject:(kickoff lunch)", every: func(found) bool { return false }, count: 0},
		// Spam and trash stay hidden unless a query asks for them
		// (answer/7190: in:anywhere "includes Spam and Trash"); leaving
		// them out asks for nothing more.
		{q: "-in:trash", every: func(m found) bool { return !slices.Contains(m.labels, "TRASH") && !slices.Contains(m.labels, "SPAM") }, count: 128},
		{q: "-in:spam", every: func(m found) bool { return !slices.Contains(m.labels, "TRASH") && !slices.Contains(m.labels, "SPAM") }, count: 128},
		{q: "-(-in:trash)", every: has("TRASH"), count: 1},
		// Headers in legacy charsets are searched as they read, as Gmail
		// searches them (the Subject and From are RFC 2047 encoded words in
		// EUC-JP, and in ISO-2022-JP cut inside a character).
		{q: "subject:旅行の写真", every: func(m found) bool { return strings.Contains(m.subject, "旅行の写真") }, includes: []string{"旅行の写真を共有します"}, count: 1},
		{q: "subject:年末年始の営業時間", includes: []string{"【ご案内】年末年始の営業時間について"}, count: 1},
		{q: "from:斎藤", every: from("斎藤"), includes: []string{"旅行の写真を共有します"}, count: 1},
		{q: "subject:Привет", includes: []string{"Привет из Москвы"}, count: 1},
		// filename: "Search for an attachment by name or type"
		// (answer/7190: filename:pdf, filename:homework.txt).
		{q: "filename:pdf", includes: []string{"Conference tickets"}, count: 1},
		{q: "filename:tickets.pdf", includes: []string{"Conference tickets"}, count: 1},
		{q: "filename:homework.txt", every: func(found) bool { return false }, count: 0},
		// deliveredto: "Search for emails delivered to a certain email
		// address" (answer/7190); what Hanako sent was delivered elsewhere.
		{q: "deliveredto:" + hanako, every: func(m found) bool { return !strings.Contains(m.from, hanako) }, includes: []string{"Lunch tomorrow?"}, count: 127},
		{q: "deliveredto:someone.else@example.com", every: func(found) bool { return false }, count: 0},
		// Ages beyond what time.Duration holds (292 years) still mean
		// "older than that": nothing; newer: everything.
		{q: "older_than:300y", every: func(found) bool { return false }, count: 0},
		{q: "newer_than:300y", count: 128},
		{q: "newer_than:9223372036854775807d", count: 128},
		{q: "older_than:99999999999m", every: func(found) bool { return false }, count: 0},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			results := f.search(t, token, tt.q)
			var subjects []string
			for _, m := range results {
				subjects = append(subjects, m.subject)
				if tt.every != nil && !tt.every(m) {
					t.Errorf("q=%s found %q (from %q, labels %v, %v), which does not match", tt.q, m.subject, m.from, m.labels, m.at)
				}
			}
			for _, subject := range tt.includes {
				if !slices.Contains(subjects, subject) {
					t.Errorf("q=%s did not find %q", tt.q, subject)
				}
			}
			for _, subject := range tt.excludes {
				if slices.Contains(subjects, subject) {
					t.Errorf("q=%s found %q; want it left out", tt.q, subject)
				}
			}
			if tt.count != 0 && len(results) != tt.count {
				t.Errorf("q=%s found %d messages; want %d", tt.q, len(results), tt.count)
			}
		})
	}
}

// TestSearchBySize checks larger:, smaller: and size: against each
// message's sizeEstimate. "Search operators you can use with Gmail"
// (support.google.com/mail/answer/7190): size:1000000 finds messages
// "larger than a certain size in bytes", larger:10M and smaller: larger or
// smaller ones; Gmail's filter guide (developers.google.com/gmail/api/
// guides/filter_settings) counts 10 MB as 10485760 bytes, so M is 2^20 and
// K 2^10. The size is "of the entire RFC822 message" (the filter Criteria
// reference), which the API reports as sizeEstimate.
func TestSearchBySize(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	sizes := map[string]int{}
	var all []int
	for _, id := range f.listAll(t, token, "") {
		size := f.getMessage(t, token, id, "minimal").SizeEstimate
		sizes[id] = size
		all = append(all, size)
	}
	slices.Sort(all)
	median := all[len(all)/2]
	tests := []struct {
		q    string
		want func(size int) bool
	}{
		{"larger:" + strconv.Itoa(median), func(size int) bool { return size > median }},
		{"smaller:" + strconv.Itoa(median), func(size int) bool { return size < median }},
		{"size:" + strconv.Itoa(median), func(size int) bool { return size > median }},
		{"larger:1K", func(size int) bool { return size > 1024 }},
		{"smaller:2k", func(size int) bool { return size < 2048 }},
		{"larger:10M", func(size int) bool { return size > 10<<20 }},
		{"smaller:1M", func(size int) bool { return size < 1<<20 }},
		{"larger:99999999999999999999M", func(int) bool { return false }},
		{"larger:" + strconv.Itoa(all[0]) + " smaller:" + strconv.Itoa(all[len(all)-1]), func(size int) bool { return size > all[0] && size < all[len(all)-1] }},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			var want []string
			for id, size := range sizes {
				if tt.want(size) {
					want = append(want, id)
				}
			}
			got := f.listAll(t, token, "q="+url.QueryEscape(tt.q))
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("q=%s found %d messages; want the %d whose sizeEstimate fits", tt.q, len(got), len(want))
			}
		})
	}
}

// TestSearchBounds sends searches too long or too deeply nested to be a
// person's: Gmail documents no limit, and Google's front end refuses a URL
// beyond about 8 KiB (googleapis/google-api-nodejs-client#972: 8192), so no
// real q is longer; a batch part can carry more. They are answered 400
// invalidArgument, Google's answer to a bad parameter, and the sandbox
// stays up. 2.5 million "(" in a batch part once ended the process with a
// stack overflow.
func TestSearchBounds(t *testing.T) {
	f := newFixture(t)
	token := f.sandbox.IssueToken(hanako).AccessToken
	searchPath := "/gmail/v1/users/me/messages?q="
	nested := func(depth int) string {
		return strings.Repeat("(", depth) + "kickoff" + strings.Repeat(")", depth)
	}
	tests := []struct {
		name string
		q    string
		want int
	}{
		{"as deep as allowed", nested(sandbox.MaxQueryDepth), http.StatusOK},
		{"one level deeper", nested(sandbox.MaxQueryDepth + 1), http.StatusBadRequest},
		{"negations as deep as allowed", strings.Repeat("-(", sandbox.MaxQueryDepth/2) + "kickoff", http.StatusOK},
		{"negations one level deeper", strings.Repeat("-(", sandbox.MaxQueryDepth/2) + "-kickoff", http.StatusBadRequest},
		{"unclosed, deeper", strings.Repeat("(", sandbox.MaxQueryDepth+1), http.StatusBadRequest},
		{"as long as allowed", strings.Repeat("a ", sandbox.MaxQueryBytes/2), http.StatusOK},
		{"one byte longer", strings.Repeat("a ", sandbox.MaxQueryBytes/2) + "b", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := f.gmail(t, token, searchPath+url.QueryEscape(tt.q))
			if tt.want == http.StatusOK {
				wantStatus(t, resp, http.StatusOK)
				return
			}
			wantGoogleError(t, "GET messages?q="+tt.name, resp, tt.want, "INVALID_ARGUMENT", "invalidArgument")
		})
	}
	t.Run("threads", func(t *testing.T) {
		resp := f.gmail(t, token, "/gmail/v1/users/me/threads?q="+url.QueryEscape(nested(sandbox.MaxQueryDepth+1)))
		wantGoogleError(t, "GET threads?q=too deep", resp, http.StatusBadRequest, "INVALID_ARGUMENT", "invalidArgument")
	})
	t.Run("2.5 million ( in a batch part", func(t *testing.T) {
		// "(" needs no escaping in a query string, so the part stays under
		// the 4 MiB batch limit.
		part := getPart("<deep>", searchPath+strings.Repeat("(", 2_500_000))
		resp, parts := f.batch(t, token, []batchPart{part, getPart("<after>", "/gmail/v1/users/me/profile")})
		wantStatus(t, resp, http.StatusOK)
		if len(parts) != 2 || parts[0].status != http.StatusBadRequest || parts[1].status != http.StatusOK {
			t.Fatalf("batch parts = %v; want 400 for the search, 200 for the profile", parts)
		}
	})
}
