package oauth

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"unicode/utf8"
)

// AvatarPattern is where the sandbox serves an account's profile picture,
// as Google serves them from lh3.googleusercontent.com/a/…: by the
// account's subject ID, so that the URL names no address.
const AvatarPattern = "GET /a/{sub}"

// avatarTones are the background colours of avatars, those of the
// .tone-N classes in static/sandbox.css.
var avatarTones = [...]string{"#1a73e8", "#188038", "#c5221f", "#e37400", "#9334e6", "#007b83"}

// Avatar is the picture the sandbox makes for an account, which its pages
// show too: the first letter of its name on a colour (the .tone-N class of
// static/sandbox.css) that stays the same for the address.
func Avatar(address, name string) (initial string, tone int) {
	first, _ := utf8.DecodeRuneInString(name)
	digest := sha256.Sum256([]byte(address))
	return string(first), int(digest[0] % byte(len(avatarTones)))
}

// pictureURL is the picture claim of account, under the origin the request
// reached the sandbox at (see Issuer).
func pictureURL(r *http.Request, account string) string {
	return Issuer(r) + "/a/" + subjectID(account)
}

// ServeAvatar is AvatarPattern: a seeded account's avatar as a 96-pixel
// SVG, the size of Google's default picture.
func (p *Provider) ServeAvatar(w http.ResponseWriter, r *http.Request) {
	for _, account := range p.accounts {
		if subjectID(account.Address) != r.PathValue("sub") {
			continue
		}
		initial, tone := Avatar(account.Address, account.Name)
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">`+
			`<circle cx="48" cy="48" r="48" fill="%s"/>`+
			`<text x="48" y="48" dy="0.35em" text-anchor="middle" font-family="sans-serif" font-size="44" fill="#ffffff">%s</text></svg>`,
			avatarTones[tone], template.HTMLEscapeString(initial))
		return
	}
	p.pages.NotFound(w, r)
}

// subjectID is the stable numeric "sub" of an account, Google-style.
func subjectID(account string) string {
	digest := sha256.Sum256([]byte(strings.ToLower(account)))
	return "1" + fmt.Sprintf("%020d", binary.BigEndian.Uint64(digest[:8]))
}
