// The seeded mail in legacy charsets, and how its encoded words are made.

package mailstore

import (
	"encoding/base64"
	"fmt"
	"net/mail"
	"strings"

	"golang.org/x/text/encoding/ianaindex"
)

// legacyCharsetSeeds are unread mail whose Subject and sender's name come as
// RFC 2047 encoded words in the charsets older mailers and mailing lists
// still send, some cut inside a character as careless mailers do, and one
// with a charset label nobody can decode (shown as it came). They are a week
// or two old, below the first screen of the inbox.
func legacyCharsetSeeds(c seedClock) []seedMessage {
	seed := func(days int, from, subject string, sentAs legacyCharset) seedMessage {
		return seedMessage{at: c.daysAgo(8+days, 8+len(subject)%9, len(from)%60), from: from, subject: subject, unread: true,
			labels: []string{LabelUpdates, LabelInbox}, sentAs: sentAs, text: subject}
	}
	return []seedMessage{
		seed(1, "株式会社サンプル商事 <info@shoji.example.co.jp>", "【ご案内】年末年始の営業時間について", legacyCharset{name: "ISO-2022-JP", split: 10}),
		seed(2, "木村 拓也 <takuya.kimura@example.jp>", "明日の会議資料を送付します", legacyCharset{name: "Shift_JIS", split: 5}),
		seed(2, "斎藤 恵 <megumi.saito@example.ne.jp>", "旅行の写真を共有します", legacyCharset{name: "EUC-JP"}),
		seed(3, "王伟 <wang.wei@example.cn>", "季度报告已更新", legacyCharset{name: "GB18030"}),
		seed(3, "陳志明 <chen.zhiming@example.tw>", "會議紀錄", legacyCharset{name: "Big5"}),
		seed(3, "김민준 <minjun.kim@example.kr>", "회의 일정 안내", legacyCharset{name: "EUC-KR"}),
		seed(4, "Иван Петров <ivan.petrov@example.ru>", "Привет из Москвы", legacyCharset{name: "KOI8-R"}),
		seed(4, "Ольга Смирнова <olga@example.ru>", "Отчёт за ноябрь", legacyCharset{name: "windows-1251"}),
		seed(4, "Łukasz Wójcik <lukasz@example.pl>", "Spotkanie w środę", legacyCharset{name: "ISO-8859-2", q: true}),
		seed(5, "Zoë Lefèvre <zoe@example.fr>", "Réunion: 5 € le café", legacyCharset{name: "windows-1252", q: true}),
		seed(5, "渡辺 結衣 <yui.watanabe@example.ne.jp>", "日本語の件名が二つの語に分かれる", legacyCharset{name: "UTF-8", split: 8}),
		{at: c.daysAgo(8+5, 7, 30), from: "Old Mailer <postmaster@legacy.example.com>", subject: unknownCharsetSubject, unread: true,
			labels: []string{LabelUpdates, LabelInbox}, text: "Sent through a relay that could not tell the charset."},
	}
}

// unknownCharsetSubject is labelled with the charset a relay writes when it
// does not know the real one, so no reader can decode it.
const unknownCharsetSubject = "=?unknown-8bit?Q?Men=FC_f=FCr_Freitag?="

// legacyCharset is how a seeded message's Subject and sender's name are
// sent: as RFC 2047 encoded words in charset name, B-encoded unless q, and
// cut into two words after split bytes (0: one word).
type legacyCharset struct {
	name  string
	q     bool
	split int
}

// encodeWords encodes text as the legacy charset's encoded words.
func (l legacyCharset) encodeWords(text string) string {
	enc, err := ianaindex.MIME.Encoding(l.name)
	if err != nil || enc == nil {
		panic(fmt.Sprintf("sandbox: seed charset %q: %v", l.name, err))
	}
	raw, err := enc.NewEncoder().Bytes([]byte(text))
	if err != nil {
		panic(fmt.Sprintf("sandbox: seed text %q in %s: %v", text, l.name, err))
	}
	parts := [][]byte{raw}
	if l.split > 0 && l.split < len(raw) {
		parts = [][]byte{raw[:l.split], raw[l.split:]}
	}
	words := make([]string, len(parts))
	for i, part := range parts {
		if l.q {
			words[i] = "=?" + l.name + "?Q?" + qEncode(part) + "?="
		} else {
			words[i] = "=?" + l.name + "?B?" + base64.StdEncoding.EncodeToString(part) + "?="
		}
	}
	return strings.Join(words, " ")
}

// qEncode is RFC 2047's Q encoding of raw bytes, escaping all but letters
// and digits so the word is also valid in a From display name (RFC 2047
// §5(3)). mime.QEncoding takes bytes in any charset too, but leaves
// characters such as '"', ',' and '<' bare, as unstructured text allows.
func qEncode(raw []byte) string {
	var out strings.Builder
	for _, b := range raw {
		switch {
		case b == ' ':
			out.WriteByte('_')
		case b >= '0' && b <= '9', b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z':
			out.WriteByte(b)
		default:
			fmt.Fprintf(&out, "=%02X", b)
		}
	}
	return out.String()
}

// encodeFrom encodes the display name of a From value.
func (l legacyCharset) encodeFrom(from string) string {
	address, err := mail.ParseAddress(from)
	if err != nil || address.Name == "" {
		return from
	}
	return l.encodeWords(address.Name) + " <" + address.Address + ">"
}
