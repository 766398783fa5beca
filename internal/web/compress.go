package web

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"html/template"
	"sync"
	"unsafe"
)

// fragment is a part of pages, the inbox's list of rows, kept in the cache
// with its DEFLATE once a view asked for gzip (inboxPage).
type fragment struct {
	html template.HTML
	// deflated is html as raw DEFLATE ending in a sync flush, on a byte
	// boundary, so that a stream may go on after it.
	deflated []byte
}

// newFragment compresses html for use in gzipPage.
func newFragment(html template.HTML) fragment {
	var buf bytes.Buffer
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(&buf)
	fw.Write([]byte(html))
	fw.Flush()
	flateWriters.Put(fw)
	return fragment{html: html, deflated: buf.Bytes()}
}

// size is what the fragment takes in memory.
func (f fragment) size() int64 { return int64(len(f.html) + len(f.deflated)) }

// flateWriters recycles compressors at the fastest level, which already
// makes a 50-message inbox about a fifth of its size (45 kB to 8.4 kB with
// the sandbox's messages); each holds about a megabyte of tables.
var flateWriters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(nil, flate.BestSpeed) // only an invalid level fails
	return fw
}}

// gzipHeader starts a gzip member (RFC 1952): DEFLATE, no name, no time,
// fastest compression (XFL 4), made on an unknown OS.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}

// gzipPage writes page to buf as one gzip member. When page holds known,
// its stored DEFLATE is used instead of compressing those bytes again: the
// stream is the part of the page before it, compressed now; known's
// DEFLATE; and the part after it, compressed now. DEFLATE allows this: each
// part but the last ends with a sync flush, on a byte boundary, and none
// refers back to bytes before its own start, since each was compressed on
// its own. The checksum is of the whole page, as gzip requires.
func gzipPage(buf *bytes.Buffer, page []byte, known fragment) {
	before, after := page, []byte(nil)
	if len(known.deflated) > 0 {
		// Read in place: a conversion would copy tens of kilobytes a view.
		html := unsafe.Slice(unsafe.StringData(string(known.html)), len(known.html))
		if at := bytes.Index(page, html); at >= 0 {
			before, after = page[:at], page[at+len(known.html):]
		} else {
			known = fragment{}
		}
	}
	buf.Write(gzipHeader)
	fw := flateWriters.Get().(*flate.Writer)
	fw.Reset(buf)
	fw.Write(before)
	if len(known.deflated) > 0 {
		fw.Flush()
		buf.Write(known.deflated)
		fw.Reset(buf)
		fw.Write(after)
	}
	fw.Close()
	flateWriters.Put(fw)
	trailer := binary.LittleEndian.AppendUint32(buf.AvailableBuffer(), crc32.ChecksumIEEE(page))
	buf.Write(binary.LittleEndian.AppendUint32(trailer, uint32(len(page))))
}
