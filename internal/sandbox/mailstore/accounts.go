package mailstore

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Seeded accounts. Hanako's mailbox is the default and the interesting one:
// 130 messages, 75 of them unread (two pages at 50 per page), Japanese and
// English mail, threads, and every awkward header the app must survive.
const (
	hanakoAddress = "hanako.yamada@example.jp"
	alexAddress   = "alex@example.com"
	emptyAddress  = "empty@example.com"

	hanakoMessages = 130
	hanakoUnread   = 75
)

// seedMessage describes one message before it gets IDs, headers and a raw form.
type seedMessage struct {
	at        time.Time
	from      string // From as the Gmail API shows it
	to        string // default: the mailbox owner
	subject   string
	noSubject bool
	noDate    bool
	text      string
	withHTML  bool     // also send a text/html alternative
	unread    bool     // unread messages are always in INBOX too
	labels    []string // default: CATEGORY_PERSONAL and INBOX
	thread    string   // messages with the same key share a thread
	sentAs    legacyCharset
	file      *Attachment // sent with the message
}

// seedClock places seeded messages relative to the time the Store was made,
// so "today", "yesterday" and "last year" stay true whenever the tests run.
type seedClock struct {
	now        time.Time
	startOfDay time.Time
}

func newSeedClock(now time.Time) seedClock {
	year, month, day := now.Date()
	return seedClock{now: now, startOfDay: time.Date(year, month, day, 0, 0, 0, 0, now.Location())}
}

// latestToday is the oldest offset passed to today.
const latestToday = 10 * time.Hour

// today returns a time ago before now, squeezed so that it stays after
// midnight when the clock is early in the day.
func (c seedClock) today(ago time.Duration) time.Time {
	elapsed := c.now.Sub(c.startOfDay)
	if elapsed < latestToday+time.Hour {
		ago = time.Duration(float64(ago) * float64(elapsed) / float64(latestToday+time.Hour))
	}
	return c.now.Add(-ago)
}

// daysAgo returns the given wall-clock time of the day days before today.
func (c seedClock) daysAgo(days, hour, minute int) time.Time {
	return c.startOfDay.AddDate(0, 0, -days).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

func (c seedClock) monthsAgo(months, days int) time.Time {
	return c.now.AddDate(0, -months, -days)
}

// lastYear returns a time in the previous calendar year.
func (c seedClock) lastYear(month time.Month, day, hour int) time.Time {
	return time.Date(c.now.Year()-1, month, day, hour, 0, 0, 0, c.now.Location())
}

func seedMailboxes(now time.Time, ids *idSource) []*Mailbox {
	clock := newSeedClock(now)
	return []*Mailbox{
		buildMailbox(hanakoAddress, "山田 花子", "花子", "山田", hanakoSeeds(clock), ids),
		buildMailbox(alexAddress, "Alex Smith", "Alex", "Smith", alexSeeds(clock), ids),
		buildMailbox(emptyAddress, "Inbox Zero", "Inbox", "Zero", emptySeeds(clock), ids),
	}
}

const (
	sato     = "佐藤 健 <ken.sato@example.co.jp>"
	suzuki   = "鈴木 美咲 <misaki.suzuki@example.co.jp>"
	tanaka   = "田中 一郎 <ichiro.tanaka@example.co.jp>"
	hanako   = "山田 花子 <hanako.yamada@example.jp>"
	emily    = "Emily Clark <emily.clark@example.com>"
	olivia   = "Olivia Brown <olivia.brown@example.com>"
	jordan   = "Jordan Lee <jordan.lee@example.com>"
	priya    = "Priya Patel <priya.patel@example.com>"
	alex     = "Alex Smith <alex@example.com>"
	calendar = "Calendar <calendar-notification@example.com>"
	// nakamura is left RFC 2047-encoded (中村 太郎), as Gmail does when the
	// sender's encoding was odd, so the app has to decode it itself.
	nakamura = "=?UTF-8?B?5Lit5p2RIOWkqumDjg==?= <taro.nakamura@example.jp>"

	quarterlyReport = `<script>alert("x")</script> Quarterly report`
)

// hanakoSeeds are the messages of Hanako's mailbox. The newest read like a
// person's inbox, as the first screen of the demo should; the ones made to
// test escaping, long subjects and odd headers are a week or more old.
func hanakoSeeds(c seedClock) []seedMessage {
	personal := []string{LabelPersonal, LabelInbox}
	important := []string{LabelImportant, LabelPersonal, LabelInbox}
	updates := []string{LabelUpdates, LabelInbox}
	seeds := []seedMessage{
		{at: c.today(4 * time.Minute), from: sato, subject: "Re: 来週の打ち合わせ日程", thread: "meeting", unread: true, labels: important,
			text: "山田さん\n\nご返信ありがとうございます。\nそれでは水曜日の14時からでお願いいたします。\n会議室は3階のAを予約しておきます。\n\n佐藤"},
		{at: c.daysAgo(9, 16, 40), from: emily, subject: "Re: " + quarterlyReport, thread: "quarterly", unread: true, labels: personal,
			text: "Hi Hanako,\n\nThanks! I've corrected the figures in the summary table. Revenue is up 12% quarter over quarter.\n\nEmily"},
		{at: c.today(55 * time.Minute), from: "株式会社サンプル 経理部 <billing@example.co.jp>", subject: "【重要】11月分請求書のご案内", unread: true, withHTML: true,
			labels: []string{LabelImportant, LabelUpdates, LabelInbox},
			text:   "山田 花子 様\n\nいつもご利用いただき誠にありがとうございます。\n11月分のご請求書を発行いたしました。\nお支払期限：12月末日\n\n株式会社サンプル 経理部"},
		{at: c.daysAgo(8, 7, 0), from: "The Weekly Byte <newsletter@example.org>", subject: "Tom & Jerry <b>bold</b>", unread: true, withHTML: true,
			labels: []string{LabelPromotions, LabelInbox},
			text:   "This week: Tom & Jerry's guide to <b>bold</b> typography, and why \"less\" is more."},
		{at: c.today(150 * time.Minute), from: olivia, subject: "Lunch tomorrow?", unread: true, labels: personal,
			text: "Shall we meet at \"Café Bleu\" at 12:30? Their soup & sandwich set is < ¥1,000.\n\nOlivia"},
		{at: c.today(195 * time.Minute), from: "noreply@example.net", subject: "Your verification code", unread: true, labels: updates,
			text: "Your verification code is 482913. It expires in 10 minutes. If you didn't request it, you can ignore this email."},
		{at: c.today(4 * time.Hour), from: nakamura, subject: "ご無沙汰しております", unread: true, labels: personal,
			text: "山田さん\n\nご無沙汰しております。中村です。\n来月東京に行く予定があるので、よろしければお茶でもいかがですか。\n\n中村"},
		{at: c.today(6 * time.Hour), from: "高橋 さくら <sakura.takahashi@example.jp>", noSubject: true, unread: true, labels: personal,
			text: "花子さん、週末の写真を送ります！ありがとう😊"},
		{at: c.today(9 * time.Hour), from: tanaka, subject: "Re: 会議の議事録について", thread: "minutes", unread: true, labels: personal,
			text: "鈴木さん\n\n議事録ありがとうございます。2ページ目の予算の数字だけ確認させてください。\n\n田中"},
		{at: c.daysAgo(1, 18, 42), from: "Build Bot <ci@builds.example.com>", subject: "Build #1287 passed: main", noDate: true, unread: true, labels: updates,
			text: "All 214 checks passed on main (commit 3f9c2ab).\nDuration: 6m 12s"},
		{at: c.daysAgo(11, 15, 5), from: calendar, unread: true, withHTML: true, labels: []string{LabelImportant, LabelUpdates, LabelInbox},
			subject: "Invitation: Annual planning offsite for the product, design, engineering and customer success teams, " +
				"with agenda, travel arrangements, hotel booking instructions and pre-reading materials @ Thu Dec 4 9am - 5pm (JST) (hanako.yamada@example.jp)",
			text: "You have been invited to the annual planning offsite.\nWhen: Thursday 9am - 5pm (JST)\nWhere: Conference Hall B\nJoining info and agenda are attached."},
		{at: c.daysAgo(10, 10, 12), from: emily, subject: quarterlyReport, thread: "quarterly", labels: important,
			text: "Hi Hanako,\n\nPlease find the Q3 numbers below. Let me know if anything looks off before Friday.\n\nEmily"},
		{at: c.daysAgo(1, 3, 33), from: "Prize Center <winner@prizes.example.com>", subject: "You have WON a $1,000 gift card!!!", unread: true, labels: []string{LabelSpam},
			text: "Congratulations!!! Click here to claim your prize before it expires."},
		{at: c.daysAgo(2, 17, 20), from: hanako, to: sato, subject: "Re: 来週の打ち合わせ日程", thread: "meeting", labels: []string{LabelSent},
			text: "佐藤さん\n\n水曜日の午後でしたら空いております。\n\n山田"},
		{at: c.daysAgo(2, 11, 2), from: suzuki, subject: "会議の議事録について", thread: "minutes", unread: true, labels: important,
			text: "皆さま\n\n本日の定例会議の議事録を共有いたします。\n修正点があれば金曜日までにご連絡ください。\n\n鈴木"},
		{at: c.daysAgo(2, 9, 45), from: priya, subject: "Re: Project kickoff", thread: "kickoff", unread: true, labels: personal,
			text: "Count me in. I'll bring the draft roadmap."},
		{at: c.daysAgo(3, 14, 0), from: jordan, subject: "Project kickoff", thread: "kickoff", labels: personal,
			text: "Hi all, let's kick off the new project on Monday at 10:00. Agenda to follow."},
		{at: c.daysAgo(3, 9, 15), from: sato, subject: "来週の打ち合わせ日程", thread: "meeting", labels: personal,
			text: "山田さん\n\nお疲れさまです。来週の打ち合わせですが、ご都合のよい日時を教えていただけますか。\n\n佐藤"},
		{at: c.daysAgo(4, 20, 30), from: alex, subject: "Photos from the trip", unread: true, labels: []string{LabelStarred, LabelPersonal, LabelInbox},
			text: "Here are the photos from Kyoto! The one at Fushimi Inari is my favourite."},
		{at: c.monthsAgo(1, 3), from: "Deals Daily <deals@example.org>", subject: "Flash sale ends tonight", labels: []string{LabelPromotions, LabelTrash},
			text: "Up to 70% off everything. Tonight only."},
		{at: c.monthsAgo(2, 0), from: "サンプルストア <order@store.example.jp>", subject: "ご注文の商品を発送しました", labels: []string{LabelUpdates},
			text: "ご注文いただいた商品を本日発送いたしました。お届けまで今しばらくお待ちください。"},
		{at: c.monthsAgo(5, 11), from: olivia, subject: "Conference tickets", labels: []string{LabelStarred, LabelPersonal, LabelInbox},
			file: &Attachment{Filename: "tickets.pdf", MimeType: "application/pdf", Data: []byte("%PDF-1.4\n% sandbox tickets\n%%EOF\n")},
			text: "Got us two tickets for the conference in March!"},
		{at: c.lastYear(time.December, 26, 16), from: "株式会社サンプル 総務部 <soumu@example.co.jp>", subject: "年末年始休業のお知らせ", labels: updates,
			text: "社員各位\n\n年末年始の休業期間は12月29日から1月3日までです。\n\n総務部"},
		{at: c.lastYear(time.June, 3, 8), from: "Acme Cloud Billing <billing@acme.example>", subject: "Your invoice for May", withHTML: true, labels: []string{LabelUpdates},
			text: "Your invoice for May is ready. Amount due: $42.00."},
	}
	seeds = append(seeds, legacyCharsetSeeds(c)...)
	return append(seeds, fillerSeeds(c, seeds)...)
}

// fillerTemplate is everyday mail used to pad Hanako's mailbox to a
// realistic size; {n} becomes a running number.
type fillerTemplate struct {
	from, subject, text string
	category            string
	withHTML            bool
}

var fillerTemplates = []fillerTemplate{
	{"テックニュース編集部 <newsletter@technews.example.jp>", "週刊テックニュース 第{n}号",
		"今週の注目記事：生成AIの最新動向、クラウド料金の見直し術、ほか。配信停止はこちらから。", LabelUpdates, true},
	{"サンプル銀行 <info@bank.example.jp>", "【サンプル銀行】お取引のお知らせ（No.{n}）",
		"山田 花子 様\n\nお客さまの口座でお取引がありました。詳細はアプリでご確認ください。", LabelUpdates, false},
	{"サンプルストア <order@store.example.jp>", "ご注文ありがとうございます（注文番号：{n}）",
		"ご注文内容の確認メールです。商品の発送準備が整い次第、改めてご連絡いたします。", LabelUpdates, true},
	{"伊藤 翔太 <shota.ito@example.jp>", "資料の件（{n}）",
		"山田さん\n\n先日お話しした資料を共有します。ご確認よろしくお願いします。\n\n伊藤", LabelPersonal, false},
	{"渡辺 結衣 <yui.watanabe@example.ne.jp>", "今度のランチ会 #{n}",
		"花子さん、次のランチ会のお店の候補をいくつか挙げてみました！", LabelPersonal, false},
	{"Acme Cloud Billing <billing@acme.example>", "Your Acme Cloud receipt #{n}",
		"Thanks for your payment. View your billing dashboard for details.", LabelUpdates, true},
	{"Tokyo Gophers <info@meetup.example.com>", "New event: Tokyo Gophers Meetup #{n}",
		"A new event has been scheduled. RSVP now, seats are limited.", LabelSocial, true},
	{"Stack Digest <digest@example.org>", "Stack Digest: top questions this week (#{n})",
		"How do I cancel a context in Go? Why does my goroutine leak? And 8 more questions.", LabelForums, true},
	{"株式会社サンプル 人事部 <hr@example.co.jp>", "【人事部】社内研修のご案内（第{n}回）",
		"社員各位\n\n下記の日程で社内研修を実施します。参加希望の方は人事部までご連絡ください。", LabelUpdates, false},
	{"Security team <security@example.com>", "Security alert #{n}: new sign-in on Windows",
		"We noticed a new sign-in to your account. If this was you, you don't need to do anything.", LabelUpdates, false},
	{"小林 直樹 <naoki.kobayashi@example.co.jp>", "見積書送付のお願い（案件{n}）",
		"山田様\n\nお世話になっております。小林です。\n案件の見積書をお送りいただけますでしょうか。\n\n小林", LabelPersonal, false},
	{jordan, "Notes from our 1:1 (week {n})",
		"Quick recap: we agreed to ship the beta next sprint and to revisit pricing later.", LabelPersonal, false},
}

// fillerSeeds pads Hanako's mailbox to hanakoMessages, spread from a week to
// over a year ago, and marks just enough of them unread to reach hanakoUnread.
func fillerSeeds(c seedClock, specials []seedMessage) []seedMessage {
	count := hanakoMessages - len(specials)
	unreadWanted := hanakoUnread
	for _, s := range specials {
		if s.unread && !slices.Contains(s.labels, LabelSpam) && !slices.Contains(s.labels, LabelTrash) {
			unreadWanted--
		}
	}
	// A fixed seed keeps the mailbox identical from run to run.
	random := rand.New(rand.NewPCG(2025, 11))
	unread := make(map[int]bool)
	for _, i := range random.Perm(count)[:unreadWanted] {
		unread[i] = true
	}
	seeds := make([]seedMessage, count)
	for i := range seeds {
		pattern := fillerTemplates[i%len(fillerTemplates)]
		number := strconv.Itoa(100 + count - i)
		labels := []string{pattern.category, LabelInbox}
		if pattern.category == LabelPersonal && i%5 == 0 {
			labels = append([]string{LabelImportant}, labels...)
		}
		if i%17 == 0 {
			labels = append([]string{LabelStarred}, labels...)
		}
		if !unread[i] && i%4 == 0 {
			// Archived: read and no longer in the inbox.
			labels = slices.DeleteFunc(labels, func(label string) bool { return label == LabelInbox })
		}
		daysBack := 6 + i*420/count
		seeds[i] = seedMessage{
			at:       c.daysAgo(daysBack, 7+random.IntN(14), random.IntN(60)),
			from:     pattern.from,
			subject:  strings.ReplaceAll(pattern.subject, "{n}", number),
			text:     strings.ReplaceAll(pattern.text, "{n}", number),
			withHTML: pattern.withHTML,
			unread:   unread[i],
			labels:   labels,
		}
	}
	return seeds
}

func alexSeeds(c seedClock) []seedMessage {
	personal := []string{LabelPersonal, LabelInbox}
	return []seedMessage{
		{at: c.today(12 * time.Minute), from: hanako, subject: "Re: Dinner on Friday?", thread: "dinner", unread: true, labels: personal,
			text: "Friday works for me! Shall we try the new ramen place near the station?"},
		{at: c.today(2 * time.Hour), from: "Code Review <noreply@review.example.com>", subject: "[gmailoauth] Pull request #42 merged", unread: true, withHTML: true,
			labels: []string{LabelUpdates, LabelInbox},
			text:   "Your pull request \"Add batch fetching\" was merged into main."},
		{at: c.daysAgo(1, 16, 10), from: priya, subject: "Team offsite: hotel options", unread: true, labels: []string{LabelImportant, LabelPersonal, LabelInbox},
			text: "Hi Alex, here are three hotel options for the offsite. Could you pick one by Thursday?"},
		{at: c.daysAgo(2, 19, 0), from: alex, to: hanako, subject: "Dinner on Friday?", thread: "dinner", labels: []string{LabelSent},
			text: "Hi Hanako, are you free for dinner on Friday?"},
		{at: c.daysAgo(5, 9, 30), from: "Example Cloud <welcome@cloud.example.com>", subject: "Welcome to Example Cloud", withHTML: true,
			labels: []string{LabelUpdates, LabelInbox},
			text:   "Welcome aboard! Here's how to get started with your new account."},
		{at: c.monthsAgo(1, 2), from: "Shop <orders@shop.example.com>", subject: "Receipt for your order #10422", labels: []string{LabelUpdates},
			text: "Thanks for your order. Your receipt is attached."},
		{at: c.monthsAgo(3, 0), from: "Stack Digest <digest@example.org>", subject: "Weekly digest: 5 new posts", labels: []string{LabelForums, LabelInbox},
			text: "Five new posts in the communities you follow."},
		{at: c.lastYear(time.November, 2, 9), from: "Sam Wilson <sam.wilson@example.com>", subject: "Happy birthday, Alex!", labels: []string{LabelStarred, LabelPersonal, LabelInbox},
			text: "Happy birthday! Hope you have a great day."},
	}
}

func emptySeeds(c seedClock) []seedMessage {
	return []seedMessage{
		{at: c.daysAgo(1, 8, 0), from: "Example Accounts <accounts@example.com>", subject: "Your weekly summary", labels: []string{LabelUpdates, LabelInbox},
			text: "You read everything this week. Nice work!"},
		{at: c.daysAgo(6, 12, 0), from: "Security team <security@example.com>", subject: "Password changed", labels: []string{LabelUpdates, LabelInbox},
			text: "Your password was changed. If this wasn't you, contact support."},
		{at: c.monthsAgo(1, 0), from: "Robin Park <robin.park@example.com>", subject: "Re: Lunch", labels: []string{LabelPersonal, LabelInbox},
			text: "See you there!"},
		{at: c.monthsAgo(2, 5), from: "Example Accounts <accounts@example.com>", subject: "Welcome to your new account", labels: []string{LabelUpdates},
			text: "Your account is ready."},
		{at: c.lastYear(time.March, 14, 10), from: "Robin Park <robin.park@example.com>", subject: "Pi day", labels: []string{LabelPersonal, LabelInbox},
			text: "Happy pi day!"},
	}
}
