package e2e

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"gmailoauth/internal/apptest"
)

// maxTabs bounds the Tab presses it may take to reach a control, so a
// control keyboard focus never reaches fails instead of looping.
const maxTabs = 40

// focusProblem is "" when the focused element is a control with a visible
// focus indicator (an outline of 2 px or more, or a ring drawn as a
// box-shadow) and at least partly on screen; otherwise it says what is
// wrong.
const focusProblem = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body || e === document.documentElement) return "nothing has focus";
	const s = getComputedStyle(e);
	const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
	const ring = s.boxShadow !== "" && s.boxShadow !== "none";
	const name = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className ? "." + String(e.className).replace(/ +/g, ".") : "");
	if (!outline && !ring) return name + " has focus but no visible indicator (outline " + s.outlineStyle + " " + s.outlineWidth + ")";
	const r = e.getBoundingClientRect();
	if (r.width === 0 || r.height === 0 || r.right <= 0 || r.bottom <= 0 || r.left >= innerWidth) return name + " has focus but is off screen";
	return "";
})()`

// press sends one key, with Shift when shift, and checks that focus stays
// visible where it lands.
func (tb *tab) press(key string, shift bool) {
	tb.b.t.Helper()
	var opts []chromedp.KeyOption
	if shift {
		opts = append(opts, chromedp.KeyModifiers(chromedp.ModifierShift))
	}
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(key, opts...)); err != nil {
		tb.b.t.Fatalf("%s: press %q on %s: %v", tb.name, key, tb.path(), err)
	}
	tb.wantVisibleFocus()
}

func (tb *tab) wantVisibleFocus() {
	tb.b.t.Helper()
	problem, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](focusProblem))
	if err != nil {
		tb.b.t.Fatalf("%s: focus on %s: %v", tb.name, tb.path(), err)
	}
	if problem != "" {
		tb.b.t.Errorf("%s: %s", tb.path(), problem)
	}
}

// focused reports whether the focused element matches the CSS selector.
func (tb *tab) focused(selector string) bool {
	tb.b.t.Helper()
	yes, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](
		"document.activeElement !== null && document.activeElement.matches("+strconv.Quote(selector)+")"))
	if err != nil {
		tb.b.t.Fatalf("%s: focus on %s: %v", tb.name, tb.path(), err)
	}
	return yes
}

// tabTo presses Tab, checking the focus each time, until the element that
// matches the CSS selector has it.
func (tb *tab) tabTo(selector string) {
	tb.b.t.Helper()
	for range maxTabs {
		tb.press(kb.Tab, false)
		if tb.focused(selector) {
			return
		}
	}
	tb.b.t.Fatalf("%s: %d Tab presses on %s never reached %s", tb.name, maxTabs, tb.path(), selector)
}

// pressToNavigate presses key on the focused control and waits for the
// page it leads to; it returns that page's status.
func (tb *tab) pressToNavigate(key string) int64 {
	tb.b.t.Helper()
	resp, err := chromedp.RunResponse(tb.ctx, chromedp.KeyEvent(key))
	if err != nil {
		tb.b.t.Fatalf("%s: press %q on %s: %v", tb.name, key, tb.path(), err)
	}
	return resp.Status
}

// TestKeyboardOnly signs in from the start page to the inbox and signs out
// again with Tab, Shift+Tab, Space and Enter alone, and wants a visible
// focus after every key press.
func TestKeyboardOnly(t *testing.T) {
	env := apptest.Start(t, apptest.Options{})
	app := env.Apps[0]
	tb := openBrowser(t)
	tb.open(app.URL + "/")

	tb.tabTo(`a[href="/oauth"]`)
	if status := tb.pressToNavigate(kb.Enter); status != http.StatusOK || tb.text("h1") != "Choose an account" {
		t.Fatalf("Enter on Connect to Gmail: %d %q at %s; want the sandbox's consent page", status, tb.text("h1"), tb.path())
	}

	// The account chosen by default has the focus of its radio group;
	// Space keeps it chosen.
	tb.tabTo(`input[name="account"]`)
	tb.press(" ", false)
	if !tb.focused(`input[name="account"]:checked`) {
		t.Errorf("Space on the focused account did not leave it chosen")
	}
	tb.tabTo(`button[value="allow"]`)
	tb.press(kb.Tab, true)
	if !tb.focused(`button[value="deny"]`) {
		t.Fatalf("Shift+Tab from Allow did not reach Deny")
	}
	tb.press(kb.Tab, false)
	if !tb.focused(`button[value="allow"]`) {
		t.Fatalf("Tab from Deny did not come back to Allow")
	}
	if status := tb.pressToNavigate(kb.Enter); status != http.StatusOK || tb.path() != "/home" {
		t.Fatalf("Enter on Allow: %d at %s; want 200 at /home", status, tb.path())
	}
	if n := tb.count("li.message"); n != 50 {
		t.Errorf("inbox reached by keyboard shows %d messages; want 50", n)
	}

	tb.tabTo(`header form[action="/logout"] button`)
	if status := tb.pressToNavigate(" "); status != http.StatusOK || tb.path() != "/" {
		t.Fatalf("Space on Sign out: %d at %s; want 200 at /", status, tb.path())
	}
	if tb.count(`a[href="/oauth"]`) == 0 {
		t.Errorf("after signing out by keyboard the start page offers no Connect to Gmail link")
	}
}
