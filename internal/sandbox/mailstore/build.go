// Turning seeds into Gmail messages: IDs, labels, headers and the zone
// each sender writes its Date in.

package mailstore

import (
	"fmt"
	"html"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"
)

// idSource numbers messages across all mailboxes so IDs never collide.
type idSource struct {
	mu   sync.Mutex
	next uint64
}

// messageID returns a Gmail-like ID: 16 hex digits whose high bits are the
// millisecond timestamp, which is how Gmail's IDs are built too.
func (ids *idSource) messageID(at time.Time) string {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.next++
	return fmt.Sprintf("%016x", uint64(at.UnixMilli())<<20|ids.next&0xfffff)
}

// buildMailbox turns seeds into messages with IDs, thread IDs, history IDs,
// headers, snippets and raw forms.
func buildMailbox(address, name, givenName, familyName string, seeds []seedMessage, ids *idSource) *Mailbox {
	seeds = slices.Clone(seeds)
	slices.SortStableFunc(seeds, func(a, b seedMessage) int { return a.at.Compare(b.at) })
	// The Gmail API shows names decoded and unquoted.
	owner := name + " <" + address + ">"
	threadIDs := make(map[string]string)
	threadReferences := make(map[string][]string)
	messages := make([]*Message, 0, len(seeds))
	for i, seed := range seeds {
		m := &Message{
			ID:           ids.messageID(seed.at),
			InternalDate: seed.at,
			HistoryID:    uint64(4200 + 37*i),
			Text:         seed.text,
		}
		m.ThreadID = m.ID
		if seed.thread != "" {
			if first, ok := threadIDs[seed.thread]; ok {
				m.ThreadID = first
			} else {
				threadIDs[seed.thread] = m.ID
			}
		}
		if seed.withHTML {
			m.HTML = `<div dir="ltr">` + strings.ReplaceAll(html.EscapeString(seed.text), "\n", "<br>") + `</div>`
		}
		if seed.file != nil {
			m.Attachments = []Attachment{*seed.file}
		}
		if seed.withHTML || seed.file != nil {
			m.boundary = "000000000000" + m.ID[4:]
		}
		m.Labels = seedLabels(seed)
		messageIDHeader := "<" + m.ID + ".sandbox@" + senderDomain(seed.from) + ">"
		m.Headers = seedHeaders(seed, m, mailOwner{address, owner}, messageIDHeader, threadReferences[seed.thread])
		if seed.thread != "" {
			threadReferences[seed.thread] = append(threadReferences[seed.thread], messageIDHeader)
		}
		m.Snippet = makeSnippet(seed.text)
		m.Raw = m.buildRaw()
		messages = append(messages, m)
	}
	slices.Reverse(messages)
	box := newMailbox(address, name, messages)
	box.GivenName, box.FamilyName = givenName, familyName
	return box
}

func seedLabels(seed seedMessage) []string {
	labels := seed.labels
	if labels == nil {
		labels = []string{LabelPersonal, LabelInbox}
	}
	if seed.unread {
		labels = append([]string{LabelUnread}, labels...)
		if !slices.Contains(labels, LabelInbox) && !slices.Contains(labels, LabelSpam) {
			labels = append(labels, LabelInbox)
		}
	}
	return slices.Clone(labels)
}

// mailOwner is the account a mailbox belongs to, as an address and as a
// To header value.
type mailOwner struct{ address, header string }

func seedHeaders(seed seedMessage, m *Message, owner mailOwner, messageID string, references []string) []Header {
	to := seed.to
	if to == "" {
		to = owner.header
	}
	sent := slices.Contains(seed.labels, LabelSent)
	var headers []Header
	if !sent {
		headers = append(headers,
			Header{"Delivered-To", owner.address},
			Header{"Received", fmt.Sprintf("from mail.%s (mail.%s [192.0.2.%d]) by mx.sandbox.example with ESMTPS id %s; %s",
				senderDomain(seed.from), senderDomain(seed.from), 10+m.HistoryID%200, m.ID[8:],
				seed.at.In(time.UTC).Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)"))})
	}
	headers = append(headers, Header{"MIME-Version", "1.0"})
	if !seed.noDate {
		headers = append(headers, Header{"Date", seed.at.In(senderZone(seed.from)).Format("Mon, 2 Jan 2006 15:04:05 -0700")})
	}
	headers = append(headers, Header{"Message-ID", messageID})
	if len(references) > 0 {
		headers = append(headers,
			Header{"In-Reply-To", references[len(references)-1]},
			Header{"References", strings.Join(references, " ")})
	}
	subject, from := seed.subject, seed.from
	if seed.sentAs.name != "" {
		subject, from = seed.sentAs.encodeWords(subject), seed.sentAs.encodeFrom(from)
	}
	if !seed.noSubject {
		headers = append(headers, Header{"Subject", subject})
	}
	headers = append(headers, Header{"From", from}, Header{"To", to})
	if m.HTML != "" || len(m.Attachments) > 0 {
		headers = append(headers, Header{"Content-Type", m.MimeType() + `; boundary="` + m.boundary + `"`})
	} else {
		headers = append(headers, PartHeaders("text/plain")...)
	}
	return headers
}

// senderDomain is the domain of a From value, for Message-ID and Received.
func senderDomain(from string) string {
	address, err := mail.ParseAddress(from)
	if err != nil {
		return "example.com"
	}
	_, domain, _ := strings.Cut(address.Address, "@")
	return domain
}

// japanTime is the zone of Japanese senders' Date headers.
var japanTime = time.FixedZone("JST", 9*60*60)

// senderZone picks the Date zone a sender's mail client would use.
func senderZone(from string) *time.Location {
	if strings.HasSuffix(senderDomain(from), ".jp") {
		return japanTime
	}
	return time.UTC
}
