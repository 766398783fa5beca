package web

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/binary"
	"hash/crc32"
	"sync"
)

// Pages are gzipped in parts, each with a compressor of its own, so that
// what a request can put into a page never shares a compression context
// with what is secret on it. DEFLATE shortens what repeats within what it
// has seen: were the inbox's paging values, which anyone can put in a
// link, compressed together with the signed-in person's address or mail, a
// guess that matched the secret would come out shorter, and an attacker
// who can make the browser follow such links and see the sizes on the wire
// could read the secret a few letters at a time (BREACH). The templates
// mark each part that shows a value from the request with {{apart}} on
// either side; no part then holds both.
//
// A part compressed on its own refers back to nothing before it, and each
// but the last ends with a sync flush, on a byte boundary, so the parts'
// DEFLATE streams, one after the other, are one valid gzip member.

// newBoundary returns what {{apart}} writes into a rendered page, where
// it is found again and cut out: random, so that no text on a page, mail
// included, can hold it.
func newBoundary() []byte {
	return []byte("\x00apart-" + rand.Text() + "\x00")
}

// rendered is a page as its template wrote it, boundaries and all.
type rendered []byte

// page is a page ready to send: as it is, and gzipped (nil when not asked
// for, or not worth it).
type page struct {
	plain, gzipped []byte
}

// minGzipSize is the smallest page worth compressing: below about one
// packet, compressing saves no round trip.
const minGzipSize = 1400

// finish cuts the boundaries out of r, and gzips it in its parts when
// gzipped is asked for and the page is large enough to gain.
func (s *Server) finish(r rendered, gzipped bool) page {
	parts := bytes.Split(r, s.boundary)
	p := page{plain: bytes.Join(parts, nil)}
	if gzipped && len(p.plain) >= minGzipSize {
		p.gzipped = gzipParts(parts, p.plain)
	}
	return p
}

// flateWriters recycles compressors at the fastest level, which already
// makes a 50-message inbox about a fifth of its size; each holds about a
// megabyte of tables.
var flateWriters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(nil, flate.BestSpeed) // only an invalid level fails
	return fw
}}

// gzipHeader starts a gzip member (RFC 1952): DEFLATE, no name, no time,
// fastest compression (XFL 4), made on an unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}

// gzipParts returns one gzip member holding plain, the parts joined, each
// part compressed on its own.
func gzipParts(parts [][]byte, plain []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(plain)/4 + 64)
	buf.Write(gzipHeader)
	fw := flateWriters.Get().(*flate.Writer)
	defer flateWriters.Put(fw)
	for i, part := range parts {
		fw.Reset(&buf) // a fresh dictionary: nothing before this part is referred to
		fw.Write(part)
		if i < len(parts)-1 {
			fw.Flush()
		}
	}
	fw.Close()
	buf.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(plain)))
	buf.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(plain))))
	return buf.Bytes()
}
