package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// signIn goes through the sandbox's sign-in as a browser does, choosing
// account on the consent page, and returns the app's Cookie header.
func signIn(appURL, account string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	consentURL, err := redirect(client.Get(appURL + "/oauth"))
	if err != nil {
		return "", err
	}
	callback, err := allow(client, consentURL, account)
	if err != nil {
		return "", err
	}
	home, err := redirect(client.Get(callback.String()))
	if err != nil {
		return "", err
	}
	if home.Path != "/home" {
		return "", fmt.Errorf("sign-in ended at %s; want /home", home)
	}
	app, _ := url.Parse(appURL)
	var cookies []string
	for _, c := range jar.Cookies(app) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	return "Cookie: " + strings.Join(cookies, "; "), nil
}

// allow submits the sandbox's consent page at consentURL as a person does
// who picks account and allows access, and returns where the sandbox sends
// the browser back to. client must not follow redirects.
func allow(client *http.Client, consentURL *url.URL, account string) (*url.URL, error) {
	resp, err := client.Get(consentURL.String())
	if err != nil {
		return nil, err
	}
	action, form, err := consentForm(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	form.Set("account", account)
	form.Set("decision", "allow")
	actionURL := consentURL.ResolveReference(&url.URL{Path: action})
	req, err := http.NewRequest(http.MethodPost, actionURL.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", consentURL.Scheme+"://"+consentURL.Host)
	return redirect(client.Do(req))
}

// redirect is the Location of a response that must be a redirect.
func redirect(resp *http.Response, err error) (*url.URL, error) {
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 {
		return nil, fmt.Errorf("%s %s = %d; want a redirect", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode)
	}
	return resp.Location()
}

// consentForm reads the consent page's form: its action and the values a
// person leaves as they are (hidden inputs, checked boxes).
func consentForm(page io.Reader) (action string, form url.Values, err error) {
	doc, err := html.Parse(page)
	if err != nil {
		return "", nil, err
	}
	form = url.Values{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			checked := false
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
				checked = checked || a.Key == "checked"
			}
			switch {
			case n.Data == "form" && action == "":
				action = attr["action"]
			case n.Data == "input" && attr["type"] == "hidden",
				n.Data == "input" && attr["type"] == "checkbox" && checked:
				form.Add(attr["name"], attr["value"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if action == "" {
		return "", nil, fmt.Errorf("consent page: no form")
	}
	return action, form, nil
}
