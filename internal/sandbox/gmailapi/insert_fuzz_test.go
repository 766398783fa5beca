package gmailapi

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"gmailoauth/internal/sandbox/mailstore"
)

// FuzzInsertRaw reads raw messages as messages.insert stores them. A
// message either is refused with 400 or is stored with headers that are
// decoded, valid UTF-8, its size the size of raw, and an answer that
// encodes; a Subject sent as one UTF-8 encoded word reads back as its text.
func FuzzInsertRaw(f *testing.F) {
	for _, seed := range []struct {
		raw     string
		subject string
	}{
		{"From: =?ISO-2022-JP?B?GyRCOzNFRBsoQiAbJEJCQE86GyhC?= <taro@example.jp>\r\nSubject: =?UTF-8?b?5peF6KGM44Gu5YaZ55yf?=\r\n" +
			"Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\r\n", "旅行の写真"},
		{"Date: Tue, 1 Jan 2019 09:00:00 +0000\r\nSubject: Re: Project kickoff\r\nIn-Reply-To: <a@b>\r\nReferences: <a@b>\r\n\r\nOld.\r\n", "Re: Project kickoff"},
		{"Subject: =?unknown-8bit?Q?Men=FC_f=FCr_Freitag?=\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; charset=Shift_JIS\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\ngrGC8YLJgr+CzQ==\r\n--x\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n--x--\r\n", "a\x00b"},
		{"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nnested\r\n--b--\r\n--a--\r\n", " spaced "},
		{"Subject: =?UTF-8?B?5peF6KGM?=\r\n =?UTF-8?B?44Gu5YaZ55yf?=\r\n\r\n", "=?UTF-8?B?5peF?="},
		{"no header line\r\n\r\nbody", ""},
		{"", "é"},
	} {
		f.Add([]byte(seed.raw), seed.subject)
	}
	received := time.Date(2025, time.November, 25, 14, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte, subject string) {
		if m, err := mailstore.NewInsertedMessage(raw, []string{mailstore.LabelInbox}, received, true); err == nil {
			for _, h := range m.Headers {
				if !utf8.ValidString(h.Value) {
					t.Fatalf("header %s = %q; want valid UTF-8", h.Name, h.Value)
				}
			}
			full := resource(m, formatFull, nil)
			if full.SizeEstimate != len(raw) {
				t.Fatalf("sizeEstimate = %d; want %d", full.SizeEstimate, len(raw))
			}
			if !utf8.ValidString(full.Snippet) {
				t.Fatalf("snippet %q; want valid UTF-8", full.Snippet)
			}
			if _, err := json.Marshal(full); err != nil {
				t.Fatalf("the stored message does not encode: %v", err)
			}
			if raw := resource(m, formatRaw, nil).Raw; raw != base64.URLEncoding.EncodeToString(m.Raw) {
				t.Fatal("format=raw is not the message as inserted")
			}
		}
		if subject == "" || !utf8.ValidString(subject) || strings.ContainsFunc(subject, unicode.IsControl) {
			return
		}
		message := "Subject: =?UTF-8?B?" + base64.StdEncoding.EncodeToString([]byte(subject)) + "?=\r\n\r\nBody.\r\n"
		m, err := mailstore.NewInsertedMessage([]byte(message), nil, received, false)
		if err != nil {
			t.Fatalf("a message with Subject %q is refused: %s", subject, err)
		}
		if got, _ := m.HeaderValue("Subject"); got != subject {
			t.Fatalf("Subject sent as an encoded word of %q reads back as %q", subject, got)
		}
	})
}
