package sandbox_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gmailoauth/internal/sandbox"
)

// TestSignInWithGoogle runs OpenID Connect's code flow: discovery, the
// code exchanged for an ID token, the token's signature checked with the
// published keys, and its claims.
func TestSignInWithGoogle(t *testing.T) {
	f := newFixture(t, googleLike)
	var discovery struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		JWKSURI       string `json:"jwks_uri"`
	}
	doc := f.get(t, sandbox.DiscoveryPath)
	wantStatus(t, doc, http.StatusOK)
	doc.decode(t, &discovery)
	if discovery.Issuer != f.url || discovery.TokenEndpoint != f.url+sandbox.TokenPath || discovery.JWKSURI != f.url+sandbox.CertsPath {
		t.Fatalf("discovery = %s; want the sandbox's own issuer and endpoints", doc.body)
	}
	// Strict mode advertises only what it takes.
	for _, mode := range []struct {
		name                           string
		fixture                        *fixture
		responseTypes, challengeMethod string
	}{
		{"Google-like", f, "code,token,id_token,id_token token", "plain,S256"},
		{"strict", newFixture(t), "code", "S256"},
	} {
		var supported struct {
			ResponseTypes    []string `json:"response_types_supported"`
			ChallengeMethods []string `json:"code_challenge_methods_supported"`
		}
		mode.fixture.get(t, sandbox.DiscoveryPath).decode(t, &supported)
		if got := strings.Join(supported.ResponseTypes, ","); got != mode.responseTypes {
			t.Errorf("%s: response_types_supported = %s; want %s", mode.name, got, mode.responseTypes)
		}
		if got := strings.Join(supported.ChallengeMethods, ","); got != mode.challengeMethod {
			t.Errorf("%s: code_challenge_methods_supported = %s; want %s", mode.name, got, mode.challengeMethod)
		}
	}

	params := authParams()
	params.Set("scope", "openid email profile")
	params.Set("nonce", "n-0S6_WzA2Mj")
	resp := f.postForm(t, sandbox.TokenPath, exchangeForm(f.code(t, params, hanako)))
	wantStatus(t, resp, http.StatusOK)
	var tokens struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		Scope       string `json:"scope"`
	}
	resp.decode(t, &tokens)
	if want := "openid " + sandbox.EmailScope + " " + sandbox.ProfileScope; tokens.Scope != want {
		t.Errorf("scope = %q; want %q, in Google's full names", tokens.Scope, want)
	}
	claims := verifyIDToken(t, f, tokens.IDToken)
	sum := sha256.Sum256([]byte(tokens.AccessToken))
	for name, want := range map[string]any{
		"iss": f.url, "aud": clientID, "azp": clientID, "email": hanako, "email_verified": true,
		"nonce": "n-0S6_WzA2Mj", "name": "山田 花子",
		"at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
		"iat":     float64(f.clock.Now().Unix()), "exp": float64(f.clock.Now().Unix() + 3600),
	} {
		if claims[name] != want {
			t.Errorf("ID token claim %s = %v; want %v", name, claims[name], want)
		}
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		t.Error("ID token has no sub")
	}

	// The same token, read back by tokeninfo.
	info := f.get(t, sandbox.TokeninfoPath+"?id_token="+url.QueryEscape(tokens.IDToken))
	wantStatus(t, info, http.StatusOK)
	var fields map[string]string
	info.decode(t, &fields)
	if fields["email"] != hanako || fields["aud"] != clientID || fields["email_verified"] != "true" {
		t.Errorf("tokeninfo of the ID token = %s", info.body)
	}
	info = f.get(t, sandbox.TokeninfoPath+"?access_token="+url.QueryEscape(tokens.AccessToken))
	wantStatus(t, info, http.StatusOK)
	info.decode(t, &fields)
	if fields["scope"] != tokens.Scope || fields["access_type"] != "offline" || fields["expires_in"] != "3600" {
		t.Errorf("tokeninfo of the access token = %s", info.body)
	}
	if got := f.get(t, sandbox.TokeninfoPath+"?access_token=nonsense").status; got != http.StatusBadRequest {
		t.Errorf("tokeninfo of an unknown token = %d; want 400", got)
	}
	// google-auth-library sends the access token in the Authorization
	// header instead.
	byHeader, _ := http.NewRequest(http.MethodPost, f.url+sandbox.TokeninfoPath, nil)
	byHeader.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	info = f.do(t, byHeader)
	wantStatus(t, info, http.StatusOK)
	// A posted form is read to 64 KiB, as every form the sandbox takes.
	big := url.Values{"access_token": {tokens.AccessToken}, "padding": {strings.Repeat("x", 100<<10)}}
	if got := f.postForm(t, sandbox.TokeninfoPath, big).status; got != http.StatusBadRequest {
		t.Errorf("tokeninfo with a 100 KiB form = %d; want 400", got)
	}

	// The same key as X.509 certificates, by key ID, as Google's v1 certs.
	var certs map[string]string
	f.get(t, sandbox.PEMCertsPath).decode(t, &certs)
	var header struct{ Kid string }
	decodeSegment(t, strings.Split(tokens.IDToken, ".")[0], &header)
	block, _ := pem.Decode([]byte(certs[header.Kid]))
	if block == nil {
		t.Fatalf("v1 certs = %v; want a certificate for key %s", certs, header.Kid)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tokens.IDToken, ".")
	signature, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], signature); err != nil {
		t.Errorf("the ID token does not verify with the v1 certificate: %v", err)
	}
}

// TestIDTokenOnlyWithOpenID: without the openid scope there is no ID token.
func TestIDTokenOnlyWithOpenID(t *testing.T) {
	f := newFixture(t, googleLike)
	params := authParams()
	params.Set("scope", sandbox.GmailScope)
	resp := f.postForm(t, sandbox.TokenPath, exchangeForm(f.code(t, params, hanako)))
	wantStatus(t, resp, http.StatusOK)
	if strings.Contains(string(resp.body), "id_token") {
		t.Errorf("token response without openid = %s; want no id_token", resp.body)
	}
}

// verifyIDToken checks token's RS256 signature with the sandbox's JSON Web
// Key Set and returns its claims.
func verifyIDToken(t *testing.T, f *fixture, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("ID token %q is not a JWS", token)
	}
	var header struct{ Alg, Kid string }
	decodeSegment(t, parts[0], &header)
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	f.get(t, sandbox.CertsPath).decode(t, &set)
	var key *rsa.PublicKey
	for _, k := range set.Keys {
		if k.Kid == header.Kid {
			n, _ := base64.RawURLEncoding.DecodeString(k.N)
			e, _ := base64.RawURLEncoding.DecodeString(k.E)
			key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		}
	}
	if header.Alg != "RS256" || key == nil {
		t.Fatalf("ID token header %+v; want RS256 with a key of the published set", header)
	}
	signature, _ := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], signature); err != nil {
		t.Fatalf("ID token signature: %v", err)
	}
	var claims map[string]any
	decodeSegment(t, parts[1], &claims)
	return claims
}

func decodeSegment(t *testing.T, segment string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil || json.Unmarshal(raw, v) != nil {
		t.Fatalf("JWT segment %q does not decode", segment)
	}
}

// TestCORS: a page of another origin may call the Gmail API and the token
// endpoint, as Google lets browser apps.
func TestCORS(t *testing.T) {
	f := newFixture(t, googleLike)
	token := f.sandbox.IssueToken(hanako).AccessToken
	for _, path := range []string{"/gmail/v1/users/me/profile", sandbox.TokenPath} {
		preflight, _ := http.NewRequest(http.MethodOptions, f.url+path, nil)
		preflight.Header.Set("Origin", "https://app.example.com")
		preflight.Header.Set("Access-Control-Request-Method", "POST")
		preflight.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp := f.do(t, preflight)
		wantStatus(t, resp, http.StatusOK)
		if resp.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
			!strings.Contains(resp.header.Get("Access-Control-Allow-Methods"), "POST") ||
			resp.header.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
			t.Errorf("OPTIONS %s: headers %v; want the origin, POST and the headers asked for allowed", path, resp.header)
		}
	}
	get, _ := http.NewRequest(http.MethodGet, f.url+"/gmail/v1/users/me/profile", nil)
	get.Header.Set("Origin", "https://app.example.com")
	get.Header.Set("Authorization", "Bearer "+token)
	resp := f.do(t, get)
	wantStatus(t, resp, http.StatusOK)
	if resp.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("GET profile from another origin: Access-Control-Allow-Origin = %q", resp.header.Get("Access-Control-Allow-Origin"))
	}
	// An error is readable too: a page must see why its exchange failed.
	exchange, _ := http.NewRequest(http.MethodPost, f.url+sandbox.TokenPath, strings.NewReader(exchangeForm("not-a-code").Encode()))
	exchange.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	exchange.Header.Set("Origin", "https://app.example.com")
	resp = f.do(t, exchange)
	wantStatus(t, resp, http.StatusBadRequest)
	if resp.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("POST token from another origin, refused: Access-Control-Allow-Origin = %q", resp.header.Get("Access-Control-Allow-Origin"))
	}
}

// TestCachedDocumentsVaryByHost: the discovery documents are built from
// the Host the request names and cached publicly for an hour, so they say
// Vary: Host (RFC 9111 §4.1) besides the Vary: Origin, X-Origin, Referer
// of Google's API answers; a cache that ignored it would serve one name's
// issuer to a client that asked another.
func TestCachedDocumentsVaryByHost(t *testing.T) {
	f := newFixture(t, googleLike)
	for _, path := range []string{sandbox.DiscoveryPath, sandbox.GmailDiscoveryPath, sandbox.CertsPath} {
		for _, host := range []string{"", "sandbox.test:8081"} {
			req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if host != "" {
				req.Host = host
			}
			resp := f.do(t, req)
			wantStatus(t, resp, http.StatusOK)
			if host != "" && path != sandbox.CertsPath && !strings.Contains(string(resp.body), "http://"+host) {
				t.Errorf("GET %s with Host %s names another origin:\n%.300s", path, host, resp.body)
			}
			vary := strings.Join(resp.header.Values("Vary"), ", ")
			if !strings.Contains(resp.header.Get("Cache-Control"), "public") || !strings.Contains(vary, "Host") || !strings.Contains(vary, "Origin") {
				t.Errorf("GET %s (Host %q): Cache-Control %q, Vary %q; want public, varying by Host and Origin", path, host, resp.header.Get("Cache-Control"), vary)
			}
		}
	}
}
