package web_test

import (
	"net/http"
	"testing"

	"gmailoauth/internal/apptest"
)

// TestInboxDecodesEveryCharset signs in to the sandbox mailbox that holds
// mail with headers in legacy charsets, some cut inside a character, and
// checks the inbox shows each sender and subject as the sender wrote them.
func TestInboxDecodesEveryCharset(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	resp := b.Get(t, app.URL+"/home")
	wantStatus(t, resp, http.StatusOK)
	shown := make(map[string]string) // subject → sender
	for _, li := range apptest.FindAll(apptest.Parse(t, resp.Body), "li.message") {
		if subject, from := apptest.Find(li, "p.subject"), apptest.Find(li, "span.from"); subject != nil && from != nil {
			shown[apptest.Text(subject)] = apptest.Text(from)
		}
	}
	tests := []struct {
		charset, from, subject string
	}{
		{charset: "ISO-2022-JP, cut inside a character", from: "株式会社サンプル商事", subject: "【ご案内】年末年始の営業時間について"},
		{charset: "Shift_JIS, cut inside a character", from: "木村 拓也", subject: "明日の会議資料を送付します"},
		{charset: "EUC-JP", from: "斎藤 恵", subject: "旅行の写真を共有します"},
		{charset: "GB18030", from: "王伟", subject: "季度报告已更新"},
		{charset: "Big5", from: "陳志明", subject: "會議紀錄"},
		{charset: "EUC-KR", from: "김민준", subject: "회의 일정 안내"},
		{charset: "KOI8-R", from: "Иван Петров", subject: "Привет из Москвы"},
		{charset: "windows-1251", from: "Ольга Смирнова", subject: "Отчёт за ноябрь"},
		{charset: "ISO-8859-2 in Q", from: "Łukasz Wójcik", subject: "Spotkanie w środę"},
		{charset: "windows-1252 in Q", from: "Zoë Lefèvre", subject: "Réunion: 5 € le café"},
		{charset: "UTF-8, cut inside a character", from: "渡辺 結衣", subject: "日本語の件名が二つの語に分かれる"},
		{charset: "a label no one can decode, shown as it came", from: "Old Mailer", subject: "=?unknown-8bit?Q?Men=FC_f=FCr_Freitag?="},
	}
	for _, tt := range tests {
		from, ok := shown[tt.subject]
		if !ok {
			t.Errorf("%s: no message with subject %q on /home", tt.charset, tt.subject)
			continue
		}
		if from != tt.from {
			t.Errorf("%s: sender of %q = %q; want %q", tt.charset, tt.subject, from, tt.from)
		}
	}
}
