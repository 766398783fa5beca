package web

import (
	"bytes"
	"compress/gzip"
	"html/template"
	"io"
	"strings"
	"testing"
)

func TestGzipPageReusesACompressedFragment(t *testing.T) {
	list := template.HTML(strings.Repeat(`<li class="message"><p class="subject">件名 subject</p></li>`, 200))
	known := newFragment(list)
	tests := []struct {
		name  string
		page  string
		known fragment
	}{
		{name: "fragment in the middle", page: "<html><body><ol>" + string(list) + "</ol></body></html>", known: known},
		{name: "fragment first", page: string(list) + "</ol>", known: known},
		{name: "fragment last", page: "<ol>" + string(list), known: known},
		{name: "fragment is the page", page: string(list), known: known},
		{name: "fragment not in the page", page: "<p>another page</p>" + strings.Repeat("x", 5000), known: known},
		{name: "no fragment", page: "<p>a page</p>" + strings.Repeat("y", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			gzipPage(&buf, []byte(tt.page), tt.known)
			zr, err := gzip.NewReader(&buf)
			if err != nil {
				t.Fatalf("gzip header: %v", err)
			}
			got, err := io.ReadAll(zr) // checks the CRC-32 and length too
			if err != nil {
				t.Fatalf("gzip stream: %v", err)
			}
			if string(got) != tt.page {
				t.Errorf("gunzipped %d bytes differ from the %d-byte page", len(got), len(tt.page))
			}
		})
	}
	var whole bytes.Buffer
	page := []byte("<ol>" + string(list) + "</ol>")
	gzipPage(&whole, page, known)
	if len(whole.Bytes()) > len(known.deflated)+100 {
		t.Errorf("page with the fragment gzips to %d bytes; want about the fragment's %d", whole.Len(), len(known.deflated))
	}
}
