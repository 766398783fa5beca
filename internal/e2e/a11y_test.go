package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/sandbox/oauth"
)

// axeTags are the axe-core rules the pages must pass: WCAG 2.0, 2.1 and
// 2.2 at levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// axePath is axe-core as `npm ci` installs it from package-lock.json.
const axePath = "node_modules/axe-core/axe.min.js"

// missingAxe is what a test says when axe-core is not installed.
const missingAxe = "axe-core not installed: run `npm ci` in internal/e2e"

var axe struct {
	once   sync.Once
	source string
	err    error
}

// requireAxe returns axe-core's script. Without it the test skips, or
// fails where browser tests are required (CI).
func requireAxe(t *testing.T) string {
	t.Helper()
	if axeInstalled() {
		return axe.source
	}
	if by := browserRequiredBy(); by != "" && errors.Is(axe.err, fs.ErrNotExist) {
		t.Fatalf("%s, and %s needs it", missingAxe, by)
	}
	if !errors.Is(axe.err, fs.ErrNotExist) {
		t.Fatalf("read %s: %v", axePath, axe.err)
	}
	t.Skip(missingAxe)
	return ""
}

// axeInstalled reports whether axe-core is there to audit with.
func axeInstalled() bool {
	axe.once.Do(loadAxe)
	return axe.err == nil
}

func loadAxe() {
	b, err := os.ReadFile(axePath)
	axe.source, axe.err = string(b), err
}

// auditLoaded checks the page a scenario has just opened or clicked to,
// as the tab draws it, when its browser audits: so every page of every
// scenario passes axe-core in the scenario's own state. TestAccessibility
// adds the other language, widths and colour scheme for each kind of page.
func (tb *tab) auditLoaded() {
	tb.b.t.Helper()
	if !tb.b.audits {
		return
	}
	for _, v := range tb.audit() {
		tb.b.t.Errorf("%s: %s", tb.path(), v)
	}
}

// violation is one axe-core rule a page breaks, with where.
type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v violation) String() string {
	return fmt.Sprintf("%s (%s): %s\n\t\t%s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t\t"))
}

// audit runs axe-core's WCAG A and AA rules on the page the tab shows, as
// it is drawn now, and returns what it breaks. The script is put into the
// page through DevTools, which the page's CSP does not govern.
func (tb *tab) audit() []violation {
	tb.b.t.Helper()
	source := requireAxe(tb.b.t)
	loaded, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err == nil && !loaded {
		_, err = chromedp.Run(tb.ctx, chromedp.Evaluate[bool](source+"\n;true"))
	}
	if err != nil {
		tb.b.t.Fatalf("%s: load axe-core into %s: %v", tb.name, tb.path(), err)
	}
	tags, _ := json.Marshal(axeTags)
	violations, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]violation](`axe.run(document, {
		runOnly: {type: "tag", values: `+string(tags)+`},
		resultTypes: ["violations"],
	}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help,
		nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ")),
	})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.b.t.Fatalf("%s: axe-core on %s: %v", tb.name, tb.path(), err)
	}
	return violations
}

// auditScreen is one way a page is drawn for the audit.
type auditScreen struct {
	name string
	screen
}

// auditScreens are the ways every page is audited: phone and desktop
// widths, light and dark.
var auditScreens = []auditScreen{
	{"desktop, light", desktop},
	{"desktop, dark", desktopDark},
	{"phone, light", screen{width: phone.width, height: phone.height, scale: 1, mobile: true}},
	{"phone, dark", screen{width: phone.width, height: phone.height, scale: 1, mobile: true, dark: true}},
}

// wantAccessible audits the page the tab shows on every audit screen and
// fails the test for each violation; what names the page. It leaves the
// tab on the desktop, light screen.
func (tb *tab) wantAccessible(what string) {
	tb.b.t.Helper()
	for _, s := range auditScreens {
		tb.useScreen(s.screen)
		for _, v := range tb.audit() {
			tb.b.t.Errorf("%s (%s, %s): %s", what, s.name, tb.path(), v)
		}
	}
	tb.useScreen(desktop)
}

// useLanguage makes the tab's browser ask for pages in the languages of an
// Accept-Language value, as a browser set to them does.
func (tb *tab) useLanguage(acceptLanguage string) {
	tb.b.t.Helper()
	if _, err := chromedp.Call(tb.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": acceptLanguage},
	}); err != nil {
		tb.b.t.Fatalf("%s: Accept-Language %q: %v", tb.name, acceptLanguage, err)
	}
}

// TestAccessibility walks every page the app and its sandbox show a
// person — start page signed out and in, consent, the start page after a
// refusal at Google, the inbox and its second page, an empty inbox, the
// sandbox's message page, not found, a stale sign-in link, Gmail down — in
// English and in Japanese, and
// audits each with axe-core on a phone and a desktop, light and dark. Each
// page is reached once per language; only the emulation changes between
// audits.
func TestAccessibility(t *testing.T) {
	requireAxe(t)
	for _, lang := range []struct{ name, acceptLanguage, htmlLang string }{
		{name: "English", acceptLanguage: "en-US,en;q=0.9", htmlLang: "en"},
		{name: "Japanese", acceptLanguage: "ja-JP,ja;q=0.9", htmlLang: "ja"},
	} {
		t.Run(lang.name, func(t *testing.T) {
			env := apptest.Start(t, apptest.Options{})
			app := env.Apps[0]
			tb := openBrowser(t)
			tb.b.audits = false // each page gets the whole matrix below instead
			tb.useLanguage(lang.acceptLanguage)
			check := func(what string) {
				t.Helper()
				if got := tb.attr("html", "lang"); got != lang.htmlLang {
					t.Errorf("%s: <html lang=%q>; want %q", what, got, lang.htmlLang)
				}
				tb.wantAccessible(what)
			}

			// Before any sign-in: where the sandbox sends a browser that is
			// signed in to no account, as Gmail's ServiceLogin does.
			tb.open(env.SandboxURL + oauth.SignInPath + "?continue=%2F")
			if n := tb.count(`form input[name="account"]`); n == 0 {
				t.Fatalf("%s: no account to choose; want the sandbox sign-in page", tb.path())
			}
			check("sandbox sign-in page")
			tb.open(app.URL + "/")
			check("start page")
			tb.click(`a[href="/oauth"]`)
			check("sandbox consent page")
			tb.click(`button[name="decision"][value="deny"]`)
			check("start page after declining")

			tb.b.expectDocumentStatus(app.URL+"/no/such/page", http.StatusNotFound)
			tb.open(app.URL + "/no/such/page")
			check("not-found page")
			stale := app.URL + "/callback?state=stale&code=x"
			tb.b.expectDocumentStatus(stale, http.StatusBadRequest)
			tb.open(stale)
			check("stale sign-in link page")

			tb.open(app.URL + "/oauth")
			tb.click(`button[name="decision"][value="allow"]`)
			check("inbox")
			message := tb.attr(`.meta a[href*="/message/"]`, "href")
			tb.click(`nav.pager a[rel="next"]`)
			check("inbox, page 2")
			tb.open(app.URL + "/")
			check("start page, signed in")
			tb.open(message)
			check("sandbox message page")

			breakGmail(env)
			tb.b.expectDocumentStatus(app.URL+"/home", http.StatusBadGateway)
			tb.open(app.URL + "/home")
			check("Gmail-down page")

			tb.open(app.URL + "/oauth")
			if _, err := chromedp.Run(tb.ctx, chromedp.Click(chromedp.CSS(`input[name="account"][value="empty@example.com"]`))); err != nil {
				t.Fatalf("choose empty@example.com on the consent page: %v", err)
			}
			tb.click(`button[name="decision"][value="allow"]`)
			check("empty inbox")
		})
	}
}

// attr is the attribute name of the first element that matches the CSS
// selector, or "".
func (tb *tab) attr(selector, name string) string {
	tb.b.t.Helper()
	value, err := chromedp.Run(tb.ctx, chromedp.Evaluate[*string](
		"document.querySelector("+strconv.Quote(selector)+")?.getAttribute("+strconv.Quote(name)+") ?? null"))
	if err != nil {
		tb.b.t.Fatalf("%s: %s of %s: %v", tb.name, name, selector, err)
	}
	if value == nil {
		return ""
	}
	return *value
}

// TestAccessibilityCheckCanFail audits a page made to break three rules
// and wants each caught: the audit is not a check that always passes.
func TestAccessibilityCheckCanFail(t *testing.T) {
	requireAxe(t)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// No lang on <html>, an image without alt text, grey on white at
		// 1.6:1, and a button without a name.
		fmt.Fprint(w, `<!DOCTYPE html><html><head><title>broken</title></head><body><main>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">
<p style="color:#ccc;background:#fff">faint text</p>
<button></button></main></body></html>`)
	}))
	t.Cleanup(site.Close)
	tb := startBrowser(t)
	tb.open(site.URL + "/")
	var found []string
	for _, v := range tb.audit() {
		found = append(found, v.ID)
	}
	for _, want := range []string{"html-has-lang", "image-alt", "color-contrast", "button-name"} {
		if !slices.Contains(found, want) {
			t.Errorf("axe-core missed %s on a page made to break it; found %q", want, found)
		}
	}
}

// axNode is a node of the accessibility tree, as a screen reader gets it.
type axNode struct {
	role, name, description string
	level                   int // of a heading
	parent                  string
}

// accessibilityTree returns the page's accessibility tree as Chromium
// computes it for screen readers, by node ID, ignored nodes left out.
func (tb *tab) accessibilityTree() map[string]axNode {
	tb.b.t.Helper()
	res, err := chromedp.Call(tb.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		tb.b.t.Fatalf("%s: accessibility tree of %s: %v", tb.name, tb.path(), err)
	}
	str := func(v *accessibility.Value) string {
		var s string
		if v != nil {
			json.Unmarshal(v.Value, &s)
		}
		return s
	}
	tree := make(map[string]axNode, len(res.Nodes))
	for _, n := range res.Nodes {
		if n.Ignored {
			continue
		}
		node := axNode{role: str(n.Role), name: str(n.Name), description: str(n.Description), parent: string(n.ParentID)}
		for _, p := range n.Properties {
			if p.Name == accessibility.PropertyNameLevel {
				json.Unmarshal(p.Value.Value, &node.level)
			}
		}
		tree[string(n.NodeID)] = node
	}
	return tree
}

// within reports whether node id has an ancestor (or is one) for which
// match holds, and returns that ancestor's ID.
func within(tree map[string]axNode, id string, match func(axNode) bool) (string, bool) {
	for ; id != ""; id = tree[id].parent {
		n, ok := tree[id]
		if ok && match(n) {
			return id, true
		}
	}
	return "", false
}

// TestInboxReadsWell checks the inbox as Chromium gives it to a screen
// reader: a list named after the page's heading and described by the
// unread estimate, one item per message, each with a level-2 heading (the
// subject) to jump between, "Open in Gmail" links described by their
// message's subject, and the pager as a named navigation landmark whose
// links read without their arrows.
func TestInboxReadsWell(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	tb := openBrowser(t)
	signIn(t, tb, env)
	tree := tb.accessibilityTree()

	var listID string
	for id, n := range tree {
		if n.role == "list" && n.name == "Unread mail" {
			listID = id
			if n.description != "About 75 unread" {
				t.Errorf("list of messages: description %q; want the estimate, About 75 unread", n.description)
			}
		}
	}
	if listID == "" {
		t.Fatalf("no list named Unread mail in the accessibility tree")
	}
	items := make(map[string]bool)
	withHeading := make(map[string]bool)
	var described, pagerLinks []string
	for id, n := range tree {
		_, inList := within(tree, id, func(a axNode) bool { return a.role == "list" && a.name == "Unread mail" })
		switch {
		case n.role == "listitem" && n.parent == listID:
			items[id] = true
		case n.role == "heading" && n.level == 2 && inList:
			if item, ok := within(tree, id, func(a axNode) bool { return a.role == "listitem" }); ok && n.name != "" {
				withHeading[item] = true
			}
		case n.role == "link" && n.name == "Open in Gmail" && n.description != "":
			described = append(described, n.description)
		case n.role == "link":
			if _, ok := within(tree, id, func(a axNode) bool { return a.role == "navigation" && a.name == "Inbox pages" }); ok {
				pagerLinks = append(pagerLinks, n.name)
			}
		}
	}
	if len(items) != 50 || len(withHeading) != 50 {
		t.Errorf("list has %d items, %d of them with a level-2 heading; want 50 and 50", len(items), len(withHeading))
	}
	if len(described) != 50 {
		t.Errorf("%d Open in Gmail links are described by their subject; want 50", len(described))
	}
	if !slices.Equal(pagerLinks, []string{"Older"}) {
		t.Errorf("links in the Inbox pages landmark read %q; want [Older]", pagerLinks)
	}
}
