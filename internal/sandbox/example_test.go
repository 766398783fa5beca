package sandbox_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"gmailoauth/internal/sandbox"
)

// Example_codeFlow signs in by hand with nothing but net/http, the way the
// app does: authorization request with PKCE, consent, code exchange, and a
// Gmail call with the access token.
func Example_codeFlow() {
	const (
		appClientID = "example-app.apps.googleusercontent.com"
		appSecret   = "example-secret"
		callback    = "http://127.0.0.1:8080/callback"
	)
	google, err := sandbox.New(sandbox.Options{ClientID: appClientID, ClientSecret: appSecret, RedirectURIs: []string{callback}})
	if err != nil {
		log.Fatal(err)
	}
	server := httptest.NewServer(google)
	defer server.Close()
	// Like a browser talking to an app that is not running, stop at redirects.
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// 1. The app sends the browser to the authorization endpoint.
	codeVerifier := "4Nd0m-v3r1f13r_that.is~long-enough-for-pkce-0123456789"
	sum := sha256.Sum256([]byte(codeVerifier))
	authorize := server.URL + sandbox.AuthPath + "?" + url.Values{
		"client_id":             {appClientID},
		"redirect_uri":          {callback},
		"response_type":         {"code"},
		"scope":                 {sandbox.GmailScope},
		"state":                 {"xyz"},
		"access_type":           {"offline"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}.Encode()
	resp, err := browser.Get(authorize)
	if err != nil {
		log.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("consent page:", resp.Status)

	// 2. The person keeps the default account and presses Allow.
	consentID := regexp.MustCompile(`name="consent_id" value="([^"]+)"`).FindSubmatch(page)[1]
	resp, err = browser.PostForm(server.URL+sandbox.AuthPath, url.Values{
		"consent_id": {string(consentID)},
		"account":    {google.Accounts()[0]},
		"scope":      {sandbox.GmailScope},
		"decision":   {"allow"},
	})
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("back at the app:", resp.Status, "state", back.Query().Get("state"))

	// 3. The app exchanges the code, authenticating with HTTP Basic.
	exchange, err := http.NewRequest(http.MethodPost, server.URL+sandbox.TokenPath, strings.NewReader(url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {back.Query().Get("code")},
		"redirect_uri":  {callback},
		"code_verifier": {codeVerifier},
	}.Encode()))
	if err != nil {
		log.Fatal(err)
	}
	exchange.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	exchange.SetBasicAuth(url.QueryEscape(appClientID), url.QueryEscape(appSecret))
	resp, err = http.DefaultClient.Do(exchange)
	if err != nil {
		log.Fatal(err)
	}
	var token struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
	}
	err = json.NewDecoder(resp.Body).Decode(&token)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token:", resp.Status, token.TokenType, token.ExpiresIn, "s, refresh token:", token.RefreshToken != "")

	// 4. The app lists the unread mail, 50 at a time.
	list, err := http.NewRequest(http.MethodGet, server.URL+"/gmail/v1/users/me/messages?q=is:unread&maxResults=50", nil)
	if err != nil {
		log.Fatal(err)
	}
	list.Header.Set("Authorization", "Bearer "+token.AccessToken)
	resp, err = http.DefaultClient.Do(list)
	if err != nil {
		log.Fatal(err)
	}
	var unread struct {
		Messages           []struct{ ID string }
		NextPageToken      string
		ResultSizeEstimate int
	}
	err = json.NewDecoder(resp.Body).Decode(&unread)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("unread:", len(unread.Messages), "of", unread.ResultSizeEstimate, "on the first page, more:", unread.NextPageToken != "")

	// Output:
	// consent page: 200 OK
	// back at the app: 303 See Other state xyz
	// token: 200 OK Bearer 3599 s, refresh token: true
	// unread: 50 of 75 on the first page, more: true
}
