package sandbox

import (
	"net/http"

	"gmailoauth/internal/i18n"
	"gmailoauth/internal/sandbox/mailstore"
)

// catalogue is the text of the pages a person meets in the sandbox — the
// consent page and the message page — in English and Japanese, as Google
// shows them in the browser's language. The sandbox's own index and error
// pages, for developers, stay in English.
var catalogue = i18n.Catalogue{
	i18n.English: {
		"layout.title":          "Google sign-in sandbox",
		"layout.banner":         "Sandbox",
		"layout.banner.1":       "· This is a local stand-in for Google, not Google. No real account, password or mail is involved.",
		"layout.about":          "About this sandbox",
		"badge":                 "sandbox",
		"consent.title":         "Sign in",
		"consent.brand":         "Sign in with Google",
		"consent.heading":       "Choose an account",
		"consent.to":            "to continue to ",
		"consent.to.after":      "",
		"consent.account":       "Account",
		"consent.wants":         "wants to access your Google Account",
		"consent.untick":        "You can untick permissions you don't want to give. ",
		"consent.offline":       "The app asked for offline access: the first time an account allows it, the app gets a refresh token and keeps access until you revoke it. ",
		"consent.chooser":       "This account has already given the app the access it asks for, so Google does not ask again. ",
		"consent.chooser.other": "Choosing another account shows the permissions for it. ",
		"consent.cancel":        "Cancel",
		"consent.continue":      "Continue",
		"consent.online":        "The app asked for online access only: no refresh token. ",
		"consent.back":          "After you choose, you go back to ",
		"consent.back.after":    ".",
		"consent.deny":          "Deny",
		"consent.allow":         "Allow",
		// The scopes, worded as Google's consent screen words them.
		"scope." + GmailScope:         "View your email messages and settings",
		"scope." + GmailModifyScope:   "Read, compose, and send emails from your Gmail account",
		"scope." + GmailInsertScope:   "Add emails into your Gmail mailbox",
		"scope." + GmailLabelsScope:   "See and edit your email labels",
		"scope." + GmailMetadataScope: "View your email message metadata such as labels and headers, but not the email body",
		"scope." + MailScope:          "Read, compose, send, and permanently delete all your email from Gmail",
		"scope." + OpenIDScope:        "Associate you with your personal info on Google",
		"scope." + EmailScope:         "See your primary Google Account email address",
		"scope." + ProfileScope:       "See your personal info, including any personal info you've made publicly available",
		"message.brand":               "Mail",
		"message.noSubject":           "(no subject)",
		"message.from":                "From",
		"message.to":                  "To",
		"message.date":                "Date",
		"message.copy":                "Read-only copy in the mailbox of %s (%s).",
		// The system labels, named as Gmail names them.
		"label." + mailstore.LabelInbox:      "Inbox",
		"label." + mailstore.LabelUnread:     "Unread",
		"label." + mailstore.LabelStarred:    "Starred",
		"label." + mailstore.LabelImportant:  "Important",
		"label." + mailstore.LabelSent:       "Sent",
		"label." + mailstore.LabelDraft:      "Drafts",
		"label." + mailstore.LabelSpam:       "Spam",
		"label." + mailstore.LabelTrash:      "Trash",
		"label." + mailstore.LabelChat:       "Chats",
		"label." + mailstore.LabelPersonal:   "Primary",
		"label." + mailstore.LabelSocial:     "Social",
		"label." + mailstore.LabelPromotions: "Promotions",
		"label." + mailstore.LabelUpdates:    "Updates",
		"label." + mailstore.LabelForums:     "Forums",
	},
	i18n.Japanese: {
		"layout.title":                       "Google ログインのサンドボックス",
		"layout.banner":                      "サンドボックス",
		"layout.banner.1":                    "· これは Google ではなく、手元で動く Google の代役です。本物のアカウント、パスワード、メールは一切使いません。",
		"layout.about":                       "このサンドボックスについて",
		"badge":                              "サンドボックス",
		"consent.title":                      "ログイン",
		"consent.brand":                      "Google でログイン",
		"consent.heading":                    "アカウントの選択",
		"consent.to":                         "",
		"consent.to.after":                   " に移動します",
		"consent.account":                    "アカウント",
		"consent.wants":                      "が Google アカウントへのアクセスを求めています",
		"consent.untick":                     "許可したくない権限は、チェックを外せます。",
		"consent.offline":                    "アプリがオフライン アクセスを求めています。このアカウントで初めて許可したときにリフレッシュトークンが発行され、取り消すまでアクセスが続きます。",
		"consent.chooser":                    "このアカウントは、アプリが求めるアクセスをすでに許可しているため、Google は改めて確認しません。",
		"consent.chooser.other":              "別のアカウントを選ぶと、そのアカウントの権限の確認が表示されます。",
		"consent.cancel":                     "キャンセル",
		"consent.continue":                   "続行",
		"consent.online":                     "アプリが求めているのはオンライン アクセスのみで、リフレッシュトークンは発行されません。",
		"consent.back":                       "どちらを選んでも、",
		"consent.back.after":                 " に戻ります。",
		"consent.deny":                       "キャンセル",
		"consent.allow":                      "許可",
		"scope." + GmailScope:                "メールのメッセージと設定の表示",
		"scope." + GmailModifyScope:          "Gmail アカウントでのメールの閲覧、作成、送信",
		"scope." + GmailInsertScope:          "Gmail のメールボックスへのメールの追加",
		"scope." + GmailLabelsScope:          "メールのラベルの表示と編集",
		"scope." + GmailMetadataScope:        "ラベルやヘッダーなど、メールのメタデータの表示（本文を除く）",
		"scope." + MailScope:                 "Gmail のすべてのメールの閲覧、作成、送信、完全な削除",
		"scope." + OpenIDScope:               "Google 上の個人情報との関連付け",
		"scope." + EmailScope:                "メインの Google アカウントのメールアドレスの表示",
		"scope." + ProfileScope:              "個人情報（公開している情報を含む）の表示",
		"message.brand":                      "メール",
		"message.noSubject":                  "（件名なし）",
		"message.from":                       "差出人",
		"message.to":                         "宛先",
		"message.date":                       "日時",
		"message.copy":                       "%s（%s）のメールボックスにある、読み取り専用のコピーです。",
		"label." + mailstore.LabelInbox:      "受信トレイ",
		"label." + mailstore.LabelUnread:     "未読",
		"label." + mailstore.LabelStarred:    "スター付き",
		"label." + mailstore.LabelImportant:  "重要",
		"label." + mailstore.LabelSent:       "送信済み",
		"label." + mailstore.LabelDraft:      "下書き",
		"label." + mailstore.LabelSpam:       "迷惑メール",
		"label." + mailstore.LabelTrash:      "ゴミ箱",
		"label." + mailstore.LabelChat:       "チャット",
		"label." + mailstore.LabelPersonal:   "メイン",
		"label." + mailstore.LabelSocial:     "ソーシャル",
		"label." + mailstore.LabelPromotions: "プロモーション",
		"label." + mailstore.LabelUpdates:    "新着",
		"label." + mailstore.LabelForums:     "フォーラム",
	},
}

// pageLanguage is the language of a consent or message page: the best
// match for the browser's Accept-Language, as Google picks it for someone
// not signed in.
func pageLanguage(r *http.Request) i18n.Lang {
	return i18n.Negotiate(r.Header.Get("Accept-Language"))
}
