package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

func TestFinishGzipsThePageInItsParts(t *testing.T) {
	s := &Server{boundary: newBoundary()}
	b := string(s.boundary)
	long := strings.Repeat("<li>件名 subject</li>", 200)
	tests := []struct {
		name, rendered, want string
	}{
		{name: "no parts", rendered: long, want: long},
		{name: "a part in the middle", rendered: long + b + "reflected" + b + long, want: long + "reflected" + long},
		{name: "a part first", rendered: b + "reflected" + b + long, want: "reflected" + long},
		{name: "a part last", rendered: long + b + "reflected" + b, want: long + "reflected"},
		{name: "empty parts", rendered: b + b + long + b + b, want: long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := s.finish(rendered(tt.rendered), true)
			if string(p.plain) != tt.want {
				t.Errorf("plain page = %.60q…; want the page without boundaries, %.60q…", p.plain, tt.want)
			}
			zr, err := gzip.NewReader(bytes.NewReader(p.gzipped))
			if err != nil {
				t.Fatalf("gzip header: %v", err)
			}
			got, err := io.ReadAll(zr) // checks the CRC-32 and length too
			if err != nil {
				t.Fatalf("gzip stream: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("gunzipped %d bytes differ from the %d-byte page", len(got), len(tt.want))
			}
		})
	}
}

// TestFinishCompressesPartsApart checks the property the BREACH defence
// rests on: a part refers back to nothing before it, so text repeated
// across a boundary is not shortened, while the same text within one part
// is.
func TestFinishCompressesPartsApart(t *testing.T) {
	s := &Server{boundary: newBoundary()}
	b := string(s.boundary)
	secret := strings.Repeat("hanako.yamada@example.jp ", 100)
	together := s.finish(rendered(secret+"hanako.yamada@example.jp"), true)
	apart := s.finish(rendered(secret+b+"hanako.yamada@example.jp"+b), true)
	if len(apart.gzipped) <= len(together.gzipped)+10 {
		t.Errorf("gzipped with the repeat in its own part = %d bytes, together = %d; want the part compressed on its own, so longer",
			len(apart.gzipped), len(together.gzipped))
	}
}

func TestFinishLeavesSmallPagesUncompressed(t *testing.T) {
	s := &Server{boundary: newBoundary()}
	if p := s.finish(rendered("<p>short</p>"), true); p.gzipped != nil {
		t.Errorf("a %d-byte page was gzipped; want it sent as it is", len(p.plain))
	}
	if p := s.finish(rendered(strings.Repeat("x", 5000)), false); p.gzipped != nil {
		t.Error("a page was gzipped when gzip was not asked for")
	}
}
