package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"gmailoauth/internal/apptest"
	"gmailoauth/internal/web"
)

// assetLinks returns the stylesheet and icon URLs a page links.
func assetLinks(t *testing.T, page []byte) []string {
	t.Helper()
	doc := apptest.Parse(t, page)
	var urls []string
	for _, link := range apptest.FindAll(doc, "link") {
		urls = append(urls, apptest.Attr(link, "href"))
	}
	for _, img := range apptest.FindAll(doc, "img") {
		urls = append(urls, apptest.Attr(img, "src"))
	}
	return urls
}

func gunzip(t *testing.T, body []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip body: %v", err)
	}
	return plain
}

// getWith GETs a URL with the given Accept-Encoding, set by hand so Go's
// transport leaves the body as it came.
func getWith(t *testing.T, b *apptest.Browser, url, acceptEncoding string) *apptest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", acceptEncoding)
	return b.Do(t, req)
}

// Pages link static files by a name that holds a hash of their content,
// served to be kept forever, so a repeat visit fetches only the page.
func TestStaticFilesAreNamedByContentAndKeptForever(t *testing.T) {
	static := apptest.MapFS(t, apptest.Static(t))
	_, app1 := start(t, apptest.Options{})
	_, app2 := start(t, apptest.Options{Deps: func(d *web.Deps) {
		static["style.css"].Data = append(bytes.Clone(static["style.css"].Data), "\n/* changed */\n"...)
		d.Static = static
	}})
	b := apptest.NewBrowser(t)
	links := assetLinks(t, b.Get(t, app1.URL+"/").Body)
	changed := assetLinks(t, b.Get(t, app2.URL+"/").Body)
	if len(links) != 3 || len(changed) != 3 {
		t.Fatalf("GET / links %q and, with a changed stylesheet, %q; want a stylesheet, an icon and an image each", links, changed)
	}
	if links[0] == changed[0] || links[1] != changed[1] {
		t.Errorf("stylesheet URL %q, then %q after a change; icon %q, then %q; want only the stylesheet's to change", links[0], changed[0], links[1], changed[1])
	}
	for _, url := range links {
		plainName := url[:strings.LastIndex(url[:strings.LastIndex(url, ".")], ".")] + url[strings.LastIndex(url, "."):]
		if plainName == url || !strings.HasPrefix(url, "/static/") {
			t.Fatalf("asset URL %q has no content hash", url)
		}
		hashed := getWith(t, b, app1.URL+url, "")
		wantStatus(t, hashed, http.StatusOK)
		if got := hashed.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s Cache-Control = %q; want public, max-age=31536000, immutable", url, got)
		}
		plain := getWith(t, b, app1.URL+plainName, "")
		wantStatus(t, plain, http.StatusOK)
		if !bytes.Equal(hashed.Body, plain.Body) || len(plain.Body) == 0 {
			t.Errorf("GET %s and %s differ; want the same file", url, plainName)
		}
		if got := plain.Header.Get("Cache-Control"); strings.Contains(got, "immutable") {
			t.Errorf("GET %s Cache-Control = %q; want no immutable under a name that outlives the content", plainName, got)
		}
		compressed := getWith(t, b, app1.URL+url, "gzip")
		if compressed.Header.Get("Content-Encoding") == "gzip" && !bytes.Equal(gunzip(t, compressed.Body), plain.Body) {
			t.Errorf("GET %s gzipped differs from the file", url)
		}
		req, _ := http.NewRequest(http.MethodGet, app1.URL+url, nil)
		req.Header.Set("If-None-Match", hashed.Header.Get("ETag"))
		wantStatus(t, b.Do(t, req), http.StatusNotModified)
	}
	if got := getWith(t, b, app1.URL+links[0], "gzip").Header.Get("Content-Encoding"); got != "gzip" {
		t.Errorf("GET the stylesheet accepting gzip: Content-Encoding = %q; want gzip", got)
	}
	// The old name of a changed file is gone, not served with new content.
	wantStatus(t, b.Get(t, app2.URL+links[0]), http.StatusNotFound)
}

// Pages are gzipped when the browser takes it, and the 50-message inbox
// stays under 10 KB on the wire.
func TestPagesAreCompressedWhenAccepted(t *testing.T) {
	_, app := start(t, apptest.Options{})
	b := apptest.NewBrowser(t)
	b.SignIn(t, app, hanako)
	tests := []struct {
		name, path, acceptEncoding string
		gzipped                    bool
	}{
		{name: "inbox, gzip accepted", path: "/home", acceptEncoding: "gzip, deflate, br, zstd", gzipped: true},
		{name: "inbox, gzip with a weight", path: "/home", acceptEncoding: "br;q=1.0, gzip;q=0.8", gzipped: true},
		{name: "inbox, gzip refused", path: "/home", acceptEncoding: "gzip;q=0, deflate", gzipped: false},
		{name: "inbox, nothing accepted", path: "/home", acceptEncoding: "", gzipped: false},
		{name: "start page, compressed ahead", path: "/", acceptEncoding: "gzip", gzipped: true},
		{name: "error page", path: "/nope", acceptEncoding: "gzip", gzipped: true},
	}
	plain := getWith(t, b, app.URL+"/home", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := getWith(t, b, app.URL+tt.path, tt.acceptEncoding)
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tt.gzipped {
				t.Fatalf("GET %s with Accept-Encoding %q: Content-Encoding = %q; want gzip %v", tt.path, tt.acceptEncoding, resp.Header.Get("Content-Encoding"), tt.gzipped)
			}
			if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("GET %s: Vary = %q; want Accept-Encoding", tt.path, got)
			}
			body := resp.Body
			if tt.gzipped {
				body = gunzip(t, resp.Body)
			}
			if tt.path == "/home" {
				if got := messageCount(t, &apptest.Response{Response: resp.Response, Body: body}); got != 50 {
					t.Fatalf("GET /home: %d messages; want 50", got)
				}
				if !bytes.Equal(body, plain.Body) {
					t.Errorf("GET /home with Accept-Encoding %q differs from the page without", tt.acceptEncoding)
				}
			}
			if tt.path == "/home" && tt.gzipped && len(resp.Body) > 10<<10 {
				t.Errorf("GET /home gzipped is %d bytes; want at most 10 KB for 50 messages", len(resp.Body))
			}
		})
	}
}
