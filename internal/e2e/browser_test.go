package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// closeTimeout bounds the graceful close of the shared browser.
const closeTimeout = 10 * time.Second

// shared is the one headless Chromium the package's tests share: started by
// the first test that needs it, closed by TestMain after the last. Each
// test gets a browser context of its own in it, so no cookie outlives the
// test that made it.
var shared struct {
	once  sync.Once
	ctx   context.Context // of its first tab, which owns the process
	err   error
	close func()
}

// sharedBrowser starts the shared Chromium, once, with a fresh profile,
// and returns the context of its first tab.
func sharedBrowser() (context.Context, error) {
	shared.once.Do(func() {
		profile, err := os.MkdirTemp("", "e2e-chromium-")
		if err != nil {
			shared.err = err
			return
		}
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocatorOptions(profile)...)
		ctx, cancelFirst := chromedp.NewContext(allocCtx)
		shared.ctx = ctx
		shared.close = func() {
			// A graceful close lets Chromium's helper processes finish
			// writing to the profile before it is removed.
			closing, cancel := context.WithTimeout(ctx, closeTimeout)
			defer cancel()
			if err := chromedp.Cancel(closing); err != nil {
				fmt.Fprintf(os.Stderr, "close chromium: %v\n", err)
			}
			cancelFirst()
			cancelAlloc()
			os.RemoveAll(profile)
		}
		if err := chromedp.Do(ctx); err != nil {
			shared.err = fmt.Errorf("start %s: %w", chromiumPath, err)
		}
	})
	return shared.ctx, shared.err
}

// closeSharedBrowser closes the shared Chromium if a test started it.
func closeSharedBrowser() {
	if shared.close != nil {
		shared.close()
	}
}

// browser is one test's view of the shared Chromium: a browser context of
// its own (what an incognito window is), with its tabs.
type browser struct {
	t         *testing.T
	tabs      []*tab
	closeTabs []context.CancelFunc // of the tabs after the first
	console   consoleWatch
	// audits says that every page a tab opens or clicks to is checked
	// with axe-core as it is drawn then (see auditLoaded).
	audits bool
}

// tab is one page of a browser.
type tab struct {
	b      *browser
	ctx    context.Context
	name   string
	screen screen // the device it emulates, once useScreen was called
}

// allocatorOptions start Chromium headless on profileDir, with nothing that
// talks to the network on its own or draws with a GPU the machine may lack.
// Flags that chromedp's defaults also set are named again, so the browser
// the tests rely on does not change with a library default.
func allocatorOptions(profileDir string) []chromedp.ExecAllocatorOption {
	return slices.Concat(chromedp.DefaultExecAllocatorOptions[:], []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(profileDir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(1280, 800),
	})
}

// openBrowser opens a fresh browser context and returns its first tab. When
// the test ends, it fails the test for every console error, uncaught
// exception, failed load or CSP violation that any tab reported, then
// closes the context and its tabs.
func openBrowser(t *testing.T) *tab {
	t.Helper()
	first := startBrowser(t)
	t.Cleanup(first.b.failOnConsoleProblems)
	first.b.audits = axeInstalled()
	return first
}

// startBrowser opens a fresh browser context in the shared Chromium,
// starting it if no test has, and returns its first tab. It only records
// console problems; openBrowser also fails on them.
func startBrowser(t *testing.T) *tab {
	t.Helper()
	requireChromium(t)
	root, err := sharedBrowser()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t}
	first := &tab{b: b, name: "tab 1"}
	tabCtx, closeContext := chromedp.NewContext(root, chromedp.WithNewBrowserContext(), chromedp.WithListener(b.console.listener(first.name)))
	// Only go test's -timeout bounds a test's use of the browser: a page
	// takes what the machine gives it, and a hang still ends, in a failure.
	first.ctx = tabCtx
	cancel := func() {}
	if deadline, ok := t.Deadline(); ok {
		first.ctx, cancel = context.WithDeadline(tabCtx, deadline)
	}
	b.tabs = append(b.tabs, first)
	t.Cleanup(func() {
		for _, closeTab := range b.closeTabs {
			closeTab()
		}
		cancel()
		closeContext() // closes the tab and disposes of the browser context
	})
	if err := chromedp.Do(first.ctx); err != nil {
		t.Fatalf("open a browser context in %s: %v", chromiumPath, err)
	}
	return first
}

// newTab opens another tab in the same browser context, sharing its cookies.
func (tb *tab) newTab() *tab {
	tb.b.t.Helper()
	b := tb.b
	next := &tab{b: b, name: fmt.Sprintf("tab %d", len(b.tabs)+1)}
	var closeTab context.CancelFunc
	next.ctx, closeTab = chromedp.NewContext(b.tabs[0].ctx, chromedp.WithListener(b.console.listener(next.name)))
	b.closeTabs = append(b.closeTabs, closeTab)
	b.tabs = append(b.tabs, next)
	if err := chromedp.Do(next.ctx); err != nil {
		b.t.Fatalf("open %s: %v", next.name, err)
	}
	return next
}

// open loads rawURL and returns the document's HTTP status.
func (tb *tab) open(rawURL string) int64 {
	tb.b.t.Helper()
	resp, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(rawURL))
	if err != nil {
		tb.b.t.Fatalf("%s: open %s: %v", tb.name, rawURL, err)
	}
	tb.auditLoaded()
	return resp.Status
}

// reload loads the current page again and returns its HTTP status.
func (tb *tab) reload() int64 {
	tb.b.t.Helper()
	return tb.open(tb.location())
}

// click clicks the first visible element that matches the CSS selector and
// waits for the page it leads to, redirects followed.
func (tb *tab) click(selector string) *network.Response {
	tb.b.t.Helper()
	from := tb.path()
	resp, err := chromedp.RunResponse(tb.ctx, chromedp.Click(chromedp.CSS(selector)))
	if err != nil {
		tb.b.t.Fatalf("%s: click %s on %s: %v", tb.name, selector, from, err)
	}
	if resp != nil {
		tb.auditLoaded()
	}
	return resp
}

// location is the URL of the page the tab shows.
func (tb *tab) location() string {
	tb.b.t.Helper()
	loc, err := chromedp.Run(tb.ctx, chromedp.Location())
	if err != nil {
		tb.b.t.Fatalf("%s: location: %v", tb.name, err)
	}
	return loc
}

// path is the path and query of the page the tab shows, for messages.
func (tb *tab) path() string {
	tb.b.t.Helper()
	u, err := url.Parse(tb.location())
	if err != nil {
		return tb.location()
	}
	return u.RequestURI()
}

// count is the number of elements that match the CSS selector now.
func (tb *tab) count(selector string) int {
	tb.b.t.Helper()
	n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](
		"document.querySelectorAll("+strconv.Quote(selector)+").length"))
	if err != nil {
		tb.b.t.Fatalf("%s: count %s: %v", tb.name, selector, err)
	}
	return n
}

// text is the text of the first element that matches the CSS selector,
// white space folded, or "" when none matches.
func (tb *tab) text(selector string) string {
	tb.b.t.Helper()
	text, err := chromedp.Run(tb.ctx, chromedp.Evaluate[*string](
		"document.querySelector("+strconv.Quote(selector)+")?.textContent ?? null"))
	if err != nil {
		tb.b.t.Fatalf("%s: text of %s: %v", tb.name, selector, err)
	}
	if text == nil {
		return ""
	}
	return strings.Join(strings.Fields(*text), " ")
}

// cookie returns the cookie called name that the browser holds for
// rawURL, as the browser stores it, or nil.
func (tb *tab) cookie(rawURL, name string) *network.Cookie {
	tb.b.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{rawURL}})
	if err != nil {
		tb.b.t.Fatalf("%s: cookies of %s: %v", tb.name, rawURL, err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// screen is the device a screenshot is taken on.
type screen struct {
	width, height int64   // the viewport, in CSS pixels
	scale         float64 // device pixels per CSS pixel
	mobile        bool    // honour the page's viewport meta tag, as phones do
	dark          bool    // prefers-color-scheme: dark
	// maxHeight caps a full-page screenshot, in CSS pixels: enough to show
	// what a page looks like, small enough for the README.
	maxHeight float64
}

var (
	desktop     = screen{width: 1280, height: 800, scale: 1, maxHeight: 1600}
	desktopDark = screen{width: 1280, height: 800, scale: 1, dark: true, maxHeight: 1600}
	phone       = screen{width: 390, height: 844, scale: 2, mobile: true, maxHeight: 1300}
	// smallPhone is the narrowest screen the pages are made for.
	smallPhone = screen{width: 360, height: 740, scale: 1, mobile: true}
)

// useScreen makes the tab look like s, to the page it shows and the ones it
// loads next.
func (tb *tab) useScreen(s screen) {
	tb.b.t.Helper()
	tb.screen = s
	viewport := []chromedp.EmulateViewportOption{chromedp.EmulateScale(s.scale)}
	if s.mobile {
		viewport = append(viewport, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	scheme := "light"
	if s.dark {
		scheme = "dark"
	}
	err := chromedp.Do(tb.ctx,
		chromedp.EmulateViewport(s.width, s.height, viewport...),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			})
			return err
		}),
	)
	if err != nil {
		tb.b.t.Fatalf("%s: emulate %+v: %v", tb.name, s, err)
	}
}

// overflow is how many CSS pixels wider than the screen the page is: more
// than 0 means a person has to scroll sideways.
func (tb *tab) overflow() int {
	tb.b.t.Helper()
	n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](
		"document.documentElement.scrollWidth - document.documentElement.clientWidth"))
	if err != nil {
		tb.b.t.Fatalf("%s: width of %s: %v", tb.name, tb.path(), err)
	}
	return n
}

// consoleProblem is what a person would see as an error or a warning in the
// browser's developer console.
type consoleProblem struct {
	tab  string
	kind string // "console.error", "uncaught exception", "network error", "security warning", …
	url  string
	text string
}

func (p consoleProblem) String() string {
	return fmt.Sprintf("%s: %s at %s: %s", p.tab, p.kind, p.url, p.text)
}

// consoleWatch collects the console problems of every tab of a browser.
type consoleWatch struct {
	mu       sync.Mutex
	problems []consoleProblem
	// expected are problems a test causes on purpose, such as the failed
	// load that an error page's status is to the browser.
	expected []func(consoleProblem) bool
}

// listener records the problems of one tab: errors and warnings, since the
// app's pages cause none of either. Chromium reports them in three events:
// console API calls, uncaught exceptions, and the browser log (the Log
// domain, which chromedp enables on every tab), where failed loads and CSP
// violations arrive. It runs in the tab's event loop, before any later
// command returns, so a round trip to the tab is enough to see every
// problem reported so far.
func (w *consoleWatch) listener(tabName string) func(ev any) {
	return func(ev any) {
		var p consoleProblem
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeAssert, runtime.ConsoleAPICalledTypeWarning:
			default:
				return
			}
			p = consoleProblem{kind: "console." + string(ev.Type), text: consoleArgs(ev.Args)}
			if st := ev.StackTrace; st != nil && len(st.CallFrames) > 0 {
				p.url = st.CallFrames[0].URL
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			p = consoleProblem{kind: "uncaught exception", url: d.URL, text: d.Text}
			if d.Exception != nil {
				p.text += " " + d.Exception.Description
			}
		case *log.EventEntryAdded:
			e := ev.Entry
			if e.Level != log.EntryLevelError && e.Level != log.EntryLevelWarning {
				return
			}
			p = consoleProblem{kind: string(e.Source) + " " + string(e.Level), url: e.URL, text: e.Text}
		default:
			return
		}
		p.tab = tabName
		w.mu.Lock()
		defer w.mu.Unlock()
		w.problems = append(w.problems, p)
	}
}

// consoleArgs renders the arguments of a console call well enough to
// recognise it in a failure.
func consoleArgs(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		if len(a.Value) > 0 {
			parts = append(parts, string(a.Value))
		} else {
			parts = append(parts, a.Description)
		}
	}
	return strings.Join(parts, " ")
}

// expectDocumentStatus tells the watch that loading rawURL answers status
// on purpose: Chromium logs every document with an error status as a
// failed load, error pages included.
func (b *browser) expectDocumentStatus(rawURL string, status int) {
	want := fmt.Sprintf("the server responded with a status of %d ", status)
	b.console.mu.Lock()
	defer b.console.mu.Unlock()
	b.console.expected = append(b.console.expected, func(p consoleProblem) bool {
		return p.kind == "network error" && p.url == rawURL && strings.Contains(p.text, want)
	})
}

// consoleProblems returns the problems reported so far that no test
// expected. It first makes a round trip to every tab, so everything the
// tabs reported before is recorded.
func (b *browser) consoleProblems() []consoleProblem {
	for _, tb := range b.tabs {
		// An error means the tab or the test's time is gone; what was
		// recorded until then is still worth reporting.
		chromedp.Run(tb.ctx, chromedp.Location())
	}
	b.console.mu.Lock()
	defer b.console.mu.Unlock()
	var unexpected []consoleProblem
	for _, p := range b.console.problems {
		if !slices.ContainsFunc(b.console.expected, func(expected func(consoleProblem) bool) bool { return expected(p) }) {
			unexpected = append(unexpected, p)
		}
	}
	return unexpected
}

// failOnConsoleProblems fails the test once for each unexpected problem.
func (b *browser) failOnConsoleProblems() {
	for _, p := range b.consoleProblems() {
		b.t.Errorf("browser console: %s", p)
	}
}
