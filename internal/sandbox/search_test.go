package sandbox_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// found is what a search test knows of a message that matched.
type found struct {
	id, from, to, subject string
	labels                []string
	at                    time.Time
}

// search lists what q finds in account's mailbox, every page, and reads
// each message's headers.
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
				got.from = h.Value
			case "To":
				got.to = h.Value
			case "Subject":
				got.subject = h.Value
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
