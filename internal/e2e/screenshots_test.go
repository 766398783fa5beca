package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gmailoauth/internal/apptest"
)

// screenshot saves the page as dir/name: the whole page, or as much of it as
// the screen's maxHeight allows, at the screen's scale.
func (tb *tab) screenshot(dir, name string) {
	tb.b.t.Helper()
	png, err := chromedp.Run(tb.ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		metrics, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		size := metrics.CSSContentSize
		shot, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			Clip:                  &page.Viewport{Width: size.Width, Height: min(size.Height, tb.screen.maxHeight), Scale: 1},
			CaptureBeyondViewport: new(true),
		})
		return shot.Data, err
	})
	if err != nil {
		tb.b.t.Fatalf("%s: screenshot of %s: %v", tb.name, tb.path(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		tb.b.t.Fatal(err)
	}
	tb.b.t.Logf("saved %s (%d KB)", name, len(png)/1024)
}

// TestScreenshots saves the README's pictures of the app. It runs only when
// asked: make screenshots, or
//
//	go test ./internal/e2e/ -run TestScreenshots -count=1 -args -screenshots=DIR
func TestScreenshots(t *testing.T) {
	dir := *screenshotDir
	if dir == "" {
		t.Skip("no -screenshots directory given (make screenshots)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := apptest.Start(t, apptest.Options{})
	app := env.Apps[0]
	tb := openBrowser(t)

	tb.useScreen(desktop)
	tb.open(app.URL + "/")
	tb.screenshot(dir, "index.png")
	toConsent(t, tb, env)
	tb.screenshot(dir, "consent.png")
	wantPage(t, "click Allow", tb.click(`button[name="decision"][value="allow"]`), app.URL+"/home", http.StatusOK)
	tb.screenshot(dir, "inbox-desktop.png")

	tb.useScreen(desktopDark)
	tb.reload()
	tb.screenshot(dir, "inbox-dark.png")

	tb.useScreen(phone)
	tb.reload()
	tb.screenshot(dir, "inbox-phone.png")

	// The same app for a browser set to Japanese, in a context of its own.
	ja := openBrowser(t)
	ja.useLanguage("ja-JP,ja;q=0.9")
	ja.useScreen(desktop)
	ja.open(app.URL + "/")
	ja.screenshot(dir, "index-ja.png")
	ja.click(`a[href="/oauth"]`)
	ja.screenshot(dir, "consent-ja.png")
	ja.click(`button[name="decision"][value="allow"]`)
	ja.screenshot(dir, "inbox-ja.png")

	tb.useScreen(desktop)
	breakGmail(env)
	tb.b.expectDocumentStatus(app.URL+"/home", http.StatusBadGateway)
	if status := tb.reload(); status != http.StatusBadGateway {
		t.Fatalf("GET /home while Gmail fails = %d; want 502", status)
	}
	tb.screenshot(dir, "error.png")
}
