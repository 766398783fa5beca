package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// asset is one static file, held in memory: the files are small and never
// change while the process runs.
type asset struct {
	body    []byte
	gzipped []byte // nil when compressing does not make it smaller
	etag    string
	kind    string // Content-Type
	url     string // "/static/style.0123456789ab.css": named by its content
}

// assets are the static files by name ("style.css") and by their
// content-hashed name ("style.0123456789ab.css").
type assets struct {
	byName, byHashedName map[string]*asset
}

// loadAssets reads every static file and names it by its content. A page
// links the hashed name, which changes whenever the file does, so browsers
// may keep a file forever and a repeat visit fetches nothing but the page.
func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byHashedName: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:6])
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hash + ext
		file := &asset{body: body, etag: `"` + hash + `"`, kind: mime.TypeByExtension(ext), url: "/static/" + hashed}
		if file.kind == "" {
			file.kind = "application/octet-stream"
		}
		if gz := gzipBytes(body, gzip.BestCompression); len(gz) < len(body) {
			file.gzipped = gz
		}
		a.byName[name], a.byHashedName[hashed] = file, file
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	return a, nil
}

// url is the template function "asset": the content-hashed URL of a
// static file. An unknown name fails the template, which fails at start.
func (a *assets) url(name string) (string, error) {
	file, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return file.url, nil
}

// Cache lifetimes of static files: a hashed URL names one content forever;
// a plain name (old pages, /favicon.ico) may change with the next build.
const (
	cacheForever = "public, max-age=31536000, immutable"
	cacheADay    = "public, max-age=86400"
)

// serve writes file, compressed when the browser takes gzip.
func (file *asset) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", file.kind)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", file.etag)
	h.Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == file.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := file.body
	if file.gzipped != nil && acceptsGzip(r) {
		body = file.gzipped
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// gzipBytes compresses b at level.
func gzipBytes(b []byte, level int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, level) // only an invalid level fails
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
