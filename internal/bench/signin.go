package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// signIn goes through the sandbox's sign-in as a browser does, choosing
// account on the consent page, lands on the inbox, and returns the app's
// Cookie header as the browser keeps it then: the first view writes the
// account Gmail names into the session, which a browser stores.
func signIn(appURL, account string) (string, error) {
	client, callback, err := toCallback(appURL, account)
	if err != nil {
		return "", err
	}
	if err := backToApp(client, callback); err != nil {
		return "", err
	}
	resp, err := client.Get(appURL + "/home")
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /home after the sign-in = %d; want 200", resp.StatusCode)
	}
	app, _ := url.Parse(appURL)
	var cookies []string
	for _, c := range client.Jar.Cookies(app) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	return "Cookie: " + strings.Join(cookies, "; "), nil
}

// toCallback starts a sign-in at the app as a browser does and allows it at
// the sandbox as account, and returns the browser, which does not follow
// redirects, and the address Google sends it back to.
func toCallback(appURL, account string) (*http.Client, *url.URL, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, nil, err
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	consentURL, err := redirect(client.Get(appURL + "/oauth"))
	if err != nil {
		return nil, nil, err
	}
	callback, err := allow(client, consentURL, account)
	return client, callback, err
}

// backToApp follows Google's redirect back to the app, which must send
// the browser on to the inbox.
func backToApp(client *http.Client, callback *url.URL) error {
	home, err := redirect(client.Get(callback.String()))
	if err != nil {
		return err
	}
	if home.Path != "/home" {
		return fmt.Errorf("sign-in ended at %s; want /home", home)
	}
	return nil
}

// timedSignIn signs in as account and returns what the person waits: from
// the browser's arrival at /callback to the last byte of the inbox.
func timedSignIn(appURL, account string) (time.Duration, error) {
	client, callback, err := toCallback(appURL, account)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := backToApp(client, callback); err != nil {
		return 0, err
	}
	resp, err := client.Get(appURL + "/home")
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /home after the sign-in = %d; want 200", resp.StatusCode)
	}
	return took, nil
}

// roundTrips are a build's sign-ins, each as its time over the sandbox's
// latency: the number of Google's round trips the person waited.
type roundTrips struct{ first, later []float64 }

// signIns measures the sign-in of each build against a sandbox of its own
// that adds b.signInLatency to every request the app sends it: runs of a
// fresh process, where the first sign-in finds nothing cached and a second
// sign-in of the same account finds the messages' metadata cached. The
// builds take turns, so the machine's load weighs on both alike. It leaves
// the apps stopped.
func (b *bench) signIns(ctx context.Context, stdout io.Writer, redirects []string) (map[string]roundTrips, error) {
	sb, err := start(ctx, "sandbox with latency", filepath.Join(b.dir, "bench-sandbox-latency.log"), "", nil,
		b.self, "sandbox", "-secret", b.secret, "-redirect", strings.Join(redirects, ","), "-latency", b.signInLatency.String())
	if err != nil {
		return nil, err
	}
	defer sb.stop()
	results := map[string]roundTrips{}
	for run := 1; run <= b.signInRuns; run++ {
		for _, name := range []string{"before", "after"} {
			app, ok := b.apps[name]
			if !ok {
				continue
			}
			app.proc.stop()
			if err := b.launch(ctx, app, sb.url); err != nil {
				return nil, err
			}
			first, err := timedSignIn(app.proc.url, b.account)
			if err != nil {
				return nil, fmt.Errorf("app %s: first sign-in: %w", name, err)
			}
			later, err := timedSignIn(app.proc.url, b.account)
			if err != nil {
				return nil, fmt.Errorf("app %s: later sign-in: %w", name, err)
			}
			r := results[name]
			r.first = append(r.first, first.Seconds()/b.signInLatency.Seconds())
			r.later = append(r.later, later.Seconds()/b.signInLatency.Seconds())
			results[name] = r
			fmt.Fprintf(stdout, "sign-in %d %-6s first %v (%.2f round trips), later %v (%.2f)\n",
				run, name, first.Round(time.Millisecond), r.first[len(r.first)-1], later.Round(time.Millisecond), r.later[len(r.later)-1])
		}
	}
	return results, nil
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
