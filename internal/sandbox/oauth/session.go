package oauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
)

// googleSessionCookie names the sandbox's stand-in for Google's own sign-in
// cookie: which accounts this browser is signed in to. It is what lets
// prompt=none answer without a page.
const googleSessionCookie = "SANDBOX_GOOGLE_SESSION"

// googleSession returns the accounts the browser is signed in to, in the
// order they signed in (authuser is the index). A cookie that does not
// verify counts as signed out.
func (p *Provider) googleSession(r *http.Request) []string {
	cookie, err := r.Cookie(googleSessionCookie)
	if err != nil {
		return nil
	}
	payload, mac, ok := strings.Cut(cookie.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(p.sessionMAC(payload))) {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	var accounts []string
	for _, address := range strings.Fields(string(raw)) {
		if account, seeded := p.seededAccount(address); seeded && !slices.Contains(accounts, account) {
			accounts = append(accounts, account)
		}
	}
	return accounts
}

// signInToGoogle adds account to the browser's sandbox Google session and
// returns its authuser index.
func (p *Provider) signInToGoogle(w http.ResponseWriter, r *http.Request, account string) int {
	accounts := p.googleSession(r)
	index := slices.Index(accounts, account)
	if index < 0 {
		accounts = append(accounts, account)
		index = len(accounts) - 1
	}
	payload := base64.RawURLEncoding.EncodeToString([]byte(strings.Join(accounts, " ")))
	http.SetCookie(w, &http.Cookie{
		Name:     googleSessionCookie,
		Value:    payload + "." + p.sessionMAC(payload),
		Path:     "/",
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	})
	return index
}

func (p *Provider) sessionMAC(payload string) string {
	mac := hmac.New(sha256.New, p.sessionKey)
	mac.Write([]byte("google-session\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
