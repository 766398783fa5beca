package gmail

import "net/url"

// MessageURL is the address of message id in Gmail on the web, signed in as
// account: where the inbox links a person to read the whole message. The
// sandbox has its twin, sandbox.MessageURL.
func MessageURL(account, id string) string {
	return "https://mail.google.com/mail/u/" + url.PathEscape(account) + "/#all/" + url.PathEscape(id)
}
