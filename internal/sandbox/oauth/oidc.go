package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// idTokenTTL is how long an ID token is valid: an hour, as Google's.
const idTokenTTL = time.Hour

// signingKey is the RSA key the sandbox signs ID tokens with, made the
// first time one is needed: making it takes a noticeable moment, and most
// uses of the sandbox never sign in with openid.
type signingKey struct {
	once sync.Once
	key  *rsa.PrivateKey
	kid  string
	pem  string // the key in a self-signed certificate, as Google publishes it too
}

func (k *signingKey) get() (*rsa.PrivateKey, string) {
	k.once.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("sandbox: make the ID token key: %v", err)) // crypto/rand does not fail
		}
		sum := sha256.Sum256(key.N.Bytes())
		k.key, k.kid = key, fmt.Sprintf("%x", sum[:20])
		now := time.Now()
		template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sandbox ID token key"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)}
		der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
		if err != nil {
			panic(fmt.Sprintf("sandbox: certify the ID token key: %v", err)) // a fresh RSA key always certifies
		}
		k.pem = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	})
	return k.key, k.kid
}

// Issuer is the sandbox's issuer identifier, as Google's is
// https://accounts.google.com: its own origin, as the request reached it,
// so that a client that discovered the sandbox at that origin finds the
// issuer it expects.
func Issuer(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// idClaims are the claims of an ID token, as Google sends them and in its
// order.
type idClaims struct {
	Issuer        string `json:"iss"`
	AuthorizedBy  string `json:"azp"`
	Audience      string `json:"aud"`
	Subject       string `json:"sub"`
	HostedDomain  string `json:"hd,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	AccessHash    string `json:"at_hash,omitempty"`
	Nonce         string `json:"nonce,omitempty"`
	Name          string `json:"name,omitempty"`
	Picture       string `json:"picture,omitempty"`
	GivenName     string `json:"given_name,omitempty"`
	FamilyName    string `json:"family_name,omitempty"`
	IssuedAt      int64  `json:"iat"`
	Expiry        int64  `json:"exp"`
}

// idToken signs the ID token of account for the client, with the claims
// scopes allow; accessToken, when given, is hashed into at_hash.
func (p *Provider) idToken(r *http.Request, account string, scopes []string, nonce, accessToken string) string {
	now := p.now()
	claims := idClaims{
		Issuer:       Issuer(r),
		AuthorizedBy: p.clientID,
		Audience:     p.clientID,
		Subject:      subjectID(account),
		HostedDomain: workspaceDomains[account],
		Nonce:        nonce,
		IssuedAt:     now.Unix(),
		Expiry:       now.Add(idTokenTTL).Unix(),
	}
	if slices.Contains(scopes, EmailScope) {
		verified := true
		claims.Email, claims.EmailVerified = account, &verified
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims.AccessHash = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	}
	if seeded, ok := p.account(account); ok && slices.Contains(scopes, ProfileScope) {
		claims.Name, claims.GivenName, claims.FamilyName = seeded.Name, seeded.GivenName, seeded.FamilyName
		claims.Picture = pictureURL(r, account)
	}
	key, kid := p.signer.get()
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid, "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	signed := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signed))
	signature, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		panic(fmt.Sprintf("sandbox: sign an ID token: %v", err)) // only a broken key fails
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(signature)
}

// verifyIDToken checks an ID token the sandbox signed and returns its
// claims, for tokeninfo.
func (p *Provider) verifyIDToken(token string, now time.Time) (idClaims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return idClaims{}, false
	}
	signature, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return idClaims{}, false
	}
	key, _ := p.signer.get()
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], signature) != nil {
		return idClaims{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims idClaims
	if err != nil || json.Unmarshal(payload, &claims) != nil || now.Unix() >= claims.Expiry {
		return idClaims{}, false
	}
	return claims, true
}

// ServeDiscovery is /.well-known/openid-configuration, Google's document
// with the sandbox's endpoints. Strict mode advertises only what it takes,
// so that a client choosing from the document is not then refused.
func (p *Provider) ServeDiscovery(w http.ResponseWriter, r *http.Request) {
	base := Issuer(r)
	responseTypes, challengeMethods := []string{"code", "token", "id_token", "id_token token"}, []string{"plain", "S256"}
	if p.strict {
		responseTypes, challengeMethods = []string{"code"}, []string{"S256"}
	}
	writePublicJSON(w, r, map[string]any{
		"issuer":                                base,
		"authorization_endpoint":                base + AuthPath,
		"token_endpoint":                        base + TokenPath,
		"userinfo_endpoint":                     base + UserinfoPath,
		"revocation_endpoint":                   base + RevokePath,
		"jwks_uri":                              base + CertsPath,
		"response_types_supported":              responseTypes,
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"claims_supported": []string{"aud", "email", "email_verified", "exp", "family_name", "given_name",
			"iat", "iss", "name", "picture", "sub"},
		"code_challenge_methods_supported": challengeMethods,
		"grant_types_supported":            []string{"authorization_code", "refresh_token"},
	})
}

// ServeCerts is the JSON Web Key Set of the ID token key.
func (p *Provider) ServeCerts(w http.ResponseWriter, r *http.Request) {
	key, kid := p.signer.get()
	writePublicJSON(w, r, map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"alg": "RS256",
		"use": "sig",
		"kid": kid,
		"n":   base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
}

// ServePEMCerts is the ID token key as Google's v1 certs endpoint has its
// keys: a certificate by key ID.
func (p *Provider) ServePEMCerts(w http.ResponseWriter, r *http.Request) {
	_, kid := p.signer.get()
	writePublicJSON(w, r, map[string]string{kid: p.signer.pem})
}

// PublicDocument prepares w for a document every client may read and
// cache for an hour, as Google serves its discovery documents and keys, and
// returns the writer to write it through. The discovery documents name the
// sandbox by the Host the request reached it at (see Issuer), so a shared
// cache must keep one copy per Host: served under another name, a cached
// copy would send a client to an origin it did not ask for, and make
// go-oidc refuse the issuer. Vary: Host says so on every public document,
// the keys too, rather than on each maker of one.
func PublicDocument(w http.ResponseWriter) http.ResponseWriter {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	return varyByHost{w}
}

// varyByHost adds Host to the Vary header as the answer is sent, after the
// writer has set the Vary that Google's API answers carry.
type varyByHost struct{ http.ResponseWriter }

func (w varyByHost) WriteHeader(status int) {
	w.Header().Add("Vary", "Host")
	w.ResponseWriter.WriteHeader(status)
}

// writePublicJSON writes a PublicDocument with the headers of Google's API
// answers, pretty-printed unless prettyPrint=false.
func writePublicJSON(w http.ResponseWriter, r *http.Request, v any) {
	w = PublicDocument(w)
	header := w.Header()
	header.Set("Content-Type", "application/json; charset=UTF-8")
	header["Vary"] = []string{"Origin", "X-Origin", "Referer"}
	w.WriteHeader(http.StatusOK)
	encoder := json.NewEncoder(w)
	encoder.SetEscapeHTML(false)
	if r.URL.Query().Get("prettyPrint") != "false" {
		encoder.SetIndent("", "  ")
	}
	// The status is already sent; a failed write means the client went away.
	_ = encoder.Encode(v)
}

// ServeTokeninfo is Google's tokeninfo endpoint: what an access token or an
// ID token stands for, every value a string, as Google writes them.
func (p *Provider) ServeTokeninfo(w http.ResponseWriter, r *http.Request) {
	// Its parameters come in the query or in a posted form, read to
	// maxFormBytes as every other form is.
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: err.Error()})
		return
	}
	now := p.now()
	invalid := &oauthError{status: http.StatusBadRequest, code: "invalid_token", description: "Invalid Value"}
	if token := r.Form.Get("id_token"); token != "" {
		claims, ok := p.verifyIDToken(token, now)
		if !ok {
			writeOAuthError(w, invalid)
			return
		}
		_, kid := p.signer.get()
		info := map[string]string{
			"iss": claims.Issuer, "azp": claims.AuthorizedBy, "aud": claims.Audience, "sub": claims.Subject,
			"iat": strconv.FormatInt(claims.IssuedAt, 10), "exp": strconv.FormatInt(claims.Expiry, 10),
			"alg": "RS256", "kid": kid, "typ": "JWT",
		}
		for name, value := range map[string]string{"hd": claims.HostedDomain, "email": claims.Email, "nonce": claims.Nonce,
			"at_hash": claims.AccessHash, "name": claims.Name, "picture": claims.Picture, "given_name": claims.GivenName, "family_name": claims.FamilyName} {
			if value != "" {
				info[name] = value
			}
		}
		if claims.EmailVerified != nil {
			info["email_verified"] = strconv.FormatBool(*claims.EmailVerified)
		}
		writeNoStoreJSON(w, http.StatusOK, info)
		return
	}
	token := r.Form.Get("access_token")
	if bearer, ok := BearerToken(r); ok && token == "" {
		token = bearer // as google-auth-library sends it
	}
	who, live := p.tokens.lookupAccess(token, now)
	if !live {
		writeOAuthError(w, invalid)
		return
	}
	info := map[string]string{
		"azp": p.clientID, "aud": p.clientID, "sub": subjectID(who.Account),
		"scope":       strings.Join(who.Scopes, " "),
		"exp":         strconv.FormatInt(who.expiry.Unix(), 10),
		"expires_in":  strconv.FormatInt(int64(who.expiry.Sub(now).Seconds()), 10),
		"access_type": "online",
	}
	if who.offline {
		info["access_type"] = "offline"
	}
	if slices.Contains(who.Scopes, EmailScope) {
		info["email"], info["email_verified"] = who.Account, "true"
	}
	writeNoStoreJSON(w, http.StatusOK, info)
}
