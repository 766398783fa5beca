package apptest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Browser is a cookie-keeping HTTP client that, like a person's browser,
// holds one session, but lets the test see every redirect.
type Browser struct {
	Client *http.Client
	Jar    *cookiejar.Jar
	// Language is the Accept-Language sent with every request, as a
	// browser's settings send it; "" sends none.
	Language string
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{
		Jar: jar,
		Client: &http.Client{
			Jar:     jar,
			Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// Response is a finished response with its body read.
type Response struct {
	*http.Response
	Body []byte
}

// Location is the parsed Location header.
func (r *Response) Location(t testing.TB) *url.URL {
	t.Helper()
	loc, err := r.Response.Location()
	if err != nil {
		t.Fatalf("%s %s = %d: no Location: %v", r.Request.Method, r.Request.URL.Path, r.StatusCode, err)
	}
	return loc
}

// Do sends req and reads the whole body.
func (b *Browser) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	if b.Language != "" && req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", b.Language)
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return &Response{Response: resp, Body: body}
}

// Get fetches an absolute URL.
func (b *Browser) Get(t testing.TB, rawURL string) *Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.Do(t, req)
}

// PostForm posts a form the way a browser does from a page of origin.
func (b *Browser) PostForm(t testing.TB, rawURL, origin string, form url.Values) *Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return b.Do(t, req)
}

// Consent is what a sign-in reached at the sandbox's consent page.
type Consent struct {
	Page   *Response
	Action string     // where the consent form posts
	Form   url.Values // the form as a person leaves it by default
}

// StartSignIn follows /oauth to the sandbox consent page.
func (b *Browser) StartSignIn(t testing.TB, app *App) *Consent {
	t.Helper()
	resp := b.Get(t, app.URL+"/oauth")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /oauth = %d; want 302", resp.StatusCode)
	}
	return b.OpenConsent(t, resp.Location(t).String())
}

// OpenConsent fetches the sandbox consent page at authURL, an
// authorization request, and reads its form.
func (b *Browser) OpenConsent(t testing.TB, authURL string) *Consent {
	t.Helper()
	page := b.Get(t, authURL)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET consent page = %d; want 200\n%s", page.StatusCode, page.Body)
	}
	action, form := ParseForm(t, page)
	return &Consent{Page: page, Action: action, Form: form}
}

// Decide submits the consent form with the button value "allow" or "deny"
// and returns the sandbox's redirect back to the app (not followed).
func (b *Browser) Decide(t testing.TB, c *Consent, decision string) *Response {
	t.Helper()
	c.Form.Set("decision", decision)
	origin := c.Page.Request.URL.Scheme + "://" + c.Page.Request.URL.Host
	resp := b.PostForm(t, c.Action, origin, c.Form)
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("POST consent = %d; want a redirect\n%s", resp.StatusCode, resp.Body)
	}
	return resp
}

// SignIn runs the whole sign-in as account and checks it lands on /home.
func (b *Browser) SignIn(t testing.TB, app *App, account string) {
	t.Helper()
	consent := b.StartSignIn(t, app)
	if account != "" {
		consent.Form.Set("account", account)
	}
	back := b.Decide(t, consent, "allow")
	resp := b.Get(t, back.Location(t).String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/home" {
		t.Fatalf("GET /callback = %d to %q; want 303 to /home\n%s", resp.StatusCode, resp.Header.Get("Location"), resp.Body)
	}
}

// ParseForm reads the first form of a page as a browser would submit it:
// hidden and text inputs, checked radios and checkboxes.
func ParseForm(t testing.TB, page *Response) (action string, form url.Values) {
	t.Helper()
	doc := Parse(t, page.Body)
	formNode := Find(doc, "form")
	if formNode == nil {
		t.Fatalf("%s: no form\n%s", page.Request.URL.Path, page.Body)
	}
	ref, err := url.Parse(Attr(formNode, "action"))
	if err != nil {
		t.Fatal(err)
	}
	action = page.Request.URL.ResolveReference(ref).String()
	form = url.Values{}
	for _, input := range FindAll(formNode, "input") {
		name := Attr(input, "name")
		if name == "" {
			continue
		}
		switch Attr(input, "type") {
		case "radio", "checkbox":
			if hasAttr(input, "checked") {
				form.Add(name, Attr(input, "value"))
			}
		default:
			form.Add(name, Attr(input, "value"))
		}
	}
	return action, form
}
