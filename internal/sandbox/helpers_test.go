package sandbox_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/sandbox"
)

const (
	clientID     = "sandbox-test.apps.googleusercontent.com"
	clientSecret = "GOCSPX-test-secret/with+specials"
	// redirectURI is never dialled: the tests read the Location header.
	redirectURI = "http://127.0.0.1:8080/callback"
	otherURI    = "https://app.example.com/oauth/callback?tenant=1"
	verifier    = "dBjftJeZ4CVP-mJ92K1XEqLnl4Ux5ahpoHxd8xWEw1g-abcdefghijklmnop"
	hanako      = "hanako.yamada@example.jp"
	alex        = "alex@example.com"
	emptyBox    = "empty@example.com"
)

// challenge is the S256 code challenge of verifier.
var challenge = s256(verifier)

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// fixture is a sandbox behind a real loopback HTTP server.
type fixture struct {
	sandbox *sandbox.Server
	url     string
	clock   *apptest.Clock
	client  *http.Client
}

// newFixture starts a sandbox whose clock stands at 14:30 JST on a Tuesday,
// strict as the app's tests run it; edit, if given, adjusts the options
// first (googleLike turns strict mode off).
func newFixture(t *testing.T, edit ...func(*sandbox.Options)) *fixture {
	t.Helper()
	clock := apptest.NewClockAt(time.Date(2025, time.November, 25, 14, 30, 0, 0, time.FixedZone("JST", 9*60*60)))
	opts := sandbox.Options{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURIs: []string{redirectURI, otherURI},
		Now:          clock.Now,
		Strict:       true,
	}
	for _, e := range edit {
		e(&opts)
	}
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	server := httptest.NewServer(sb)
	t.Cleanup(server.Close)
	return &fixture{
		sandbox: sb,
		url:     server.URL,
		clock:   clock,
		client: &http.Client{
			// The tests inspect redirects instead of following them.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       10 * time.Second,
		},
	}
}

// googleLike turns strict mode off: the sandbox answers as Google does.
func googleLike(o *sandbox.Options) { o.Strict = false }

// keepGoogleSession gives the fixture's client a cookie jar, so the
// sandbox's Google session carries from one request to the next as in a
// browser.
func (f *fixture) keepGoogleSession(t *testing.T) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.client.Jar = jar
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) location(t *testing.T) *url.URL {
	t.Helper()
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || r.header.Get("Location") == "" {
		t.Fatalf("Location = %q; want a URL", r.header.Get("Location"))
	}
	return loc
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (f *fixture) do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func (f *fixture) get(t *testing.T, path string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, req)
}

func (f *fixture) postForm(t *testing.T, path string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(t, req)
}

// authParams is a valid authorization request; tests edit copies of it.
func authParams() url.Values {
	return url.Values{
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"response_type":         {"code"},
		"scope":                 {"openid email " + sandbox.GmailScope},
		"state":                 {"state-123"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
		"access_type":           {"offline"},
	}
}

func (f *fixture) authorize(t *testing.T, params url.Values) response {
	t.Helper()
	return f.get(t, sandbox.AuthPath+"?"+params.Encode())
}

var consentIDPattern = regexp.MustCompile(`name="consent_id" value="([^"]+)"`)

// consentID shows the consent page for params and returns its consent ID.
func (f *fixture) consentID(t *testing.T, params url.Values) string {
	t.Helper()
	resp := f.authorize(t, params)
	if resp.status != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200\n%s", sandbox.AuthPath, resp.status, resp.body)
	}
	match := consentIDPattern.FindSubmatch(resp.body)
	if match == nil {
		t.Fatalf("consent page has no consent_id field:\n%s", resp.body)
	}
	return string(match[1])
}

// allowForm is the consent form as a browser submits it after Allow.
func allowForm(consentID, account string, scopes ...string) url.Values {
	return url.Values{"consent_id": {consentID}, "account": {account}, "scope": scopes, "decision": {"allow"}}
}

// code runs authorization and consent for account with params and returns
// the authorization code.
func (f *fixture) code(t *testing.T, params url.Values, account string) string {
	t.Helper()
	id := f.consentID(t, params)
	resp := f.postForm(t, sandbox.AuthPath, allowForm(id, account, strings.Fields(params.Get("scope"))...))
	if resp.status != http.StatusSeeOther {
		t.Fatalf("POST %s = %d; want 303\n%s", sandbox.AuthPath, resp.status, resp.body)
	}
	code := resp.location(t).Query().Get("code")
	if code == "" {
		t.Fatalf("consent redirect %s has no code", resp.header.Get("Location"))
	}
	return code
}

// exchangeForm is a valid authorization_code token request body.
func exchangeForm(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
		"client_id":     {clientID},
		"client_secret": {clientSecret},
	}
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
}

type oauthErrorResponse struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// signIn runs the whole code flow for account and returns the tokens.
func (f *fixture) signIn(t *testing.T, account string) tokenResponse {
	t.Helper()
	resp := f.postForm(t, sandbox.TokenPath, exchangeForm(f.code(t, authParams(), account)))
	if resp.status != http.StatusOK {
		t.Fatalf("POST %s = %d; want 200\n%s", sandbox.TokenPath, resp.status, resp.body)
	}
	var tokens tokenResponse
	resp.decode(t, &tokens)
	return tokens
}

// gmail sends an authenticated GET to a Gmail path.
func (f *fixture) gmail(t *testing.T, accessToken, path string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return f.do(t, req)
}

// wantStatus stops the test unless resp has status.
func wantStatus(t *testing.T, resp response, status int) {
	t.Helper()
	if resp.status != status {
		t.Fatalf("status = %d; want %d\n%s", resp.status, status, resp.body)
	}
}

// googleError is Google's API error body.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Message      string `json:"message"`
			Domain       string `json:"domain"`
			Reason       string `json:"reason"`
			Location     string `json:"location"`
			LocationType string `json:"locationType"`
		} `json:"errors"`
		Status string `json:"status"`
	} `json:"error"`
}

// wantGoogleError checks status and the shape of a Google API error.
func wantGoogleError(t *testing.T, what string, resp response, status int, state, reason string) {
	t.Helper()
	if resp.status != status {
		t.Fatalf("%s = %d; want %d\n%s", what, resp.status, status, resp.body)
	}
	var body googleError
	resp.decode(t, &body)
	domain := "global"
	if reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" {
		domain = "usageLimits"
	}
	if body.Error.Code != status || body.Error.Status != state || len(body.Error.Errors) != 1 ||
		body.Error.Errors[0].Reason != reason || body.Error.Errors[0].Domain != domain || body.Error.Message == "" {
		t.Errorf("%s error = %+v; want code %d, status %s, one error with reason %s in domain %s", what, body.Error, status, state, reason, domain)
	}
	if got := resp.header.Get("Content-Type"); got != "application/json; charset=UTF-8" {
		t.Errorf("%s Content-Type = %q; want application/json; charset=UTF-8", what, got)
	}
}

type listResponse struct {
	Messages []struct {
		ID       string `json:"id"`
		ThreadID string `json:"threadId"`
	} `json:"messages"`
	NextPageToken      string `json:"nextPageToken"`
	ResultSizeEstimate int    `json:"resultSizeEstimate"`
}

type messageResource struct {
	ID           string   `json:"id"`
	ThreadID     string   `json:"threadId"`
	LabelIDs     []string `json:"labelIds"`
	Snippet      string   `json:"snippet"`
	HistoryID    string   `json:"historyId"`
	InternalDate string   `json:"internalDate"`
	SizeEstimate int      `json:"sizeEstimate"`
	Raw          string   `json:"raw"`
	Payload      *struct {
		MimeType string `json:"mimeType"`
		Headers  []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		Body *struct {
			Size int    `json:"size"`
			Data string `json:"data"`
		} `json:"body"`
		Parts []struct {
			MimeType string `json:"mimeType"`
			Body     struct {
				Size int    `json:"size"`
				Data string `json:"data"`
			} `json:"body"`
		} `json:"parts"`
	} `json:"payload"`
}

func (m messageResource) header(name string) (string, bool) {
	if m.Payload == nil {
		return "", false
	}
	for _, h := range m.Payload.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// listAll pages through a messages.list query and returns every message ID.
func (f *fixture) listAll(t *testing.T, accessToken, query string) []string {
	t.Helper()
	var ids []string
	pageToken := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatalf("listing %q never ends", query)
		}
		path := "/gmail/v1/users/me/messages?" + query
		if pageToken != "" {
			path += "&pageToken=" + url.QueryEscape(pageToken)
		}
		resp := f.gmail(t, accessToken, path)
		if resp.status != http.StatusOK {
			t.Fatalf("GET %s = %d; want 200\n%s", path, resp.status, resp.body)
		}
		var list listResponse
		resp.decode(t, &list)
		for _, m := range list.Messages {
			ids = append(ids, m.ID)
		}
		if list.NextPageToken == "" {
			return ids
		}
		pageToken = list.NextPageToken
	}
}

// getMessage fetches one message in format.
func (f *fixture) getMessage(t *testing.T, accessToken, id, format string) messageResource {
	t.Helper()
	path := "/gmail/v1/users/me/messages/" + id + "?format=" + format
	resp := f.gmail(t, accessToken, path)
	if resp.status != http.StatusOK {
		t.Fatalf("GET %s = %d; want 200\n%s", path, resp.status, resp.body)
	}
	var m messageResource
	resp.decode(t, &m)
	return m
}

// findMessage returns the metadata of the first message that satisfies
// match, searching all of the account's mail.
func (f *fixture) findMessage(t *testing.T, accessToken string, match func(messageResource) bool) messageResource {
	t.Helper()
	for _, id := range f.listAll(t, accessToken, "maxResults=500&includeSpamTrash=true") {
		m := f.getMessage(t, accessToken, id, "metadata")
		if match(m) {
			return m
		}
	}
	t.Fatal("no seeded message matches")
	return messageResource{}
}

func subjectIs(subject string) func(messageResource) bool {
	return func(m messageResource) bool {
		got, ok := m.header("Subject")
		return ok && got == subject
	}
}
