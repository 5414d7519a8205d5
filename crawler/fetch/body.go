package fetch

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// transport is the only way a response body reaches colly, whatever
// its status or what it is (page, feed, listing, robots.txt): through a
// limitedBody, which decompresses it, holds it to max bytes after
// decompression and to the request's deadline, and ends it with an error
// unless it is complete.
//
// Colly gunzips some bodies itself (httpBackend.Do in colly v2.3.0), after
// it has read them through this transport, that is after any limit set
// here: a body with a Content-Encoding naming gzip (also x-gzip), a
// Content-Type naming gzip when there is no Content-Encoding, and any URL
// ending in .xml.gz. Those are gunzipped here instead and marked as
// Uncompressed, which is how colly knows to leave them alone; otherwise a
// 64 kB gzip stream of zeros becomes 64 MB in memory, or 64 GB.
type transport struct {
	base    http.RoundTripper
	max     int64
	timeout time.Duration // the fetch timeout, for messages: do sets the deadline
}

// decoding is what has to be undone to a body before it is read.
type decoding int

const (
	fetchIdentity decoding = iota
	// fetchGunzip: the Content-Encoding says gzip.
	fetchGunzip
	// fetchMaybeGunzip: the Content-Type or the URL says gzip, which is
	// then undone if the body starts as gzip does.
	fetchMaybeGunzip
)

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	decoding, err := decodingOf(resp)
	if err != nil {
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil, err
		}
		// Only the status of another response is used, and sometimes
		// its headers (Retry-After, Location), never its body.
		resp.Body = http.NoBody
		markDecoded(resp)
		decoding = fetchIdentity
	}
	length := resp.ContentLength // of the bytes on the wire, -1 when unknown
	if resp.Uncompressed {
		length = -1 // Go's transport has already removed it.
	}
	if decoding == fetchIdentity && length > t.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%w (%d > %d bytes)", ErrTooLarge, length, t.max)
	}
	after := ""
	if decoding != fetchIdentity || resp.Uncompressed {
		after = " after gzip decompression"
	}
	if decoding != fetchIdentity {
		markDecoded(resp)
	}
	resp.Body = &limitedBody{
		ctx:      req.Context(),
		timeout:  t.timeout,
		wire:     counter{r: resp.Body},
		closer:   resp.Body,
		length:   length,
		decoding: decoding,
		max:      t.max,
		after:    after,
	}
	return resp, nil
}

// decodingOf says what to undo to resp's body: what colly would
// undo itself, and never anything else. A Content-Encoding other than
// gzip is an error: it was not asked for (only Go's transport asks, for
// gzip, and then decodes it itself).
func decodingOf(resp *http.Response) (decoding, error) {
	if resp.Uncompressed {
		return fetchIdentity, nil // Go's transport gunzipped it and dropped the header.
	}
	gzipped := 0
	for _, v := range resp.Header.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			switch c = strings.ToLower(strings.TrimSpace(c)); c {
			case "", "identity":
			case "gzip", "x-gzip":
				gzipped++
			default:
				return 0, fmt.Errorf("%w %q", ErrUnsupportedEncoding, c)
			}
		}
	}
	switch {
	case gzipped > 1:
		return 0, fmt.Errorf("%w: gzip applied %d times", ErrUnsupportedEncoding, gzipped)
	case gzipped == 1:
		return fetchGunzip, nil
	case resp.Header.Get("Content-Encoding") == "" && strings.Contains(strings.ToLower(resp.Header.Get("Content-Type")), "gzip"),
		resp.Request != nil && strings.HasSuffix(strings.ToLower(resp.Request.URL.Path), ".xml.gz"):
		return fetchMaybeGunzip, nil
	}
	return fetchIdentity, nil
}

// markDecoded tells colly (and the reader of the headers) that the
// body is no longer what the headers describe, so it is not gunzipped
// again.
func markDecoded(resp *http.Response) {
	resp.Uncompressed = true
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
}

// limitedBody is a response body as the Client reads it. It returns at
// most max+1 bytes after decompression, then ErrTooLarge, so that no more
// is ever held. It returns io.EOF only for a complete body: the transport
// saw its end, that end is where the Content-Length said (when the bytes
// are those on the wire; Go's transport checks it too, and a chunked body
// that does not end properly fails there), and the request's deadline had
// not passed. Anything cut short, by the server or by the fetch timeout,
// is ErrTruncated.
//
// A body with neither a Content-Length nor chunks ends when the server
// closes the connection, and one the server cuts short cannot be told
// from a complete one, unless it is gzip, whose trailer says where it
// ends.
type limitedBody struct {
	ctx      context.Context // the request's: its deadline is the fetch timeout
	timeout  time.Duration
	wire     counter // the bytes as they came, counted
	closer   io.Closer
	length   int64 // the Content-Length of the wire bytes; -1 when unknown
	decoding decoding
	r        io.Reader // the bytes after decoding; nil until the first Read
	max      int64
	n        int64  // bytes returned
	after    string // " after gzip decompression" for a gzipped body
	err      error  // returned by every Read once set
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.r == nil {
		r, err := b.open()
		if err != nil {
			b.err = b.end(err)
			return 0, b.err
		}
		b.r = r
	}
	if left := b.max - b.n + 1; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.max {
		b.err = fmt.Errorf("%w (over %d bytes%s)", ErrTooLarge, b.max, b.after)
		return 0, b.err
	}
	if err != nil {
		b.err = b.end(err)
	}
	return n, b.err
}

func (b *limitedBody) Close() error { return b.closer.Close() }

// open starts decoding. gzip.NewReader reads the gzip header, which is
// why it waits for the first Read: RoundTrip returns with the headers.
func (b *limitedBody) open() (io.Reader, error) {
	var wire io.Reader = &b.wire
	if b.decoding == fetchIdentity {
		return wire, nil
	}
	if b.decoding == fetchMaybeGunzip {
		// A server may send a .xml.gz already gunzipped: only a body
		// that starts as gzip does (1f 8b) is one.
		magic := make([]byte, 2)
		n, err := io.ReadFull(wire, magic)
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return bytes.NewReader(magic[:n]), nil
		case err != nil:
			return nil, err
		}
		wire = io.MultiReader(bytes.NewReader(magic), wire)
		if magic[0] != 0x1f || magic[1] != 0x8b {
			b.after = ""
			return wire, nil
		}
	}
	zr, err := gzip.NewReader(wire)
	if err == io.EOF && b.wire.n == 0 {
		return bytes.NewReader(nil), nil // no body at all, as for a 304
	}
	if err != nil {
		return nil, err
	}
	return zr, nil
}

// end turns the error that ended the body into the one to return.
func (b *limitedBody) end(err error) error {
	if cut := b.cut(); cut != nil {
		return cut
	}
	switch {
	case err == io.EOF:
		if b.length >= 0 && b.wire.n != b.length {
			return fmt.Errorf("%w: %d of %d bytes", ErrTruncated, b.wire.n, b.length)
		}
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w after %d bytes: %w", ErrTruncated, b.n, err)
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, new(flate.CorruptInputError)):
		return fmt.Errorf("decompress body: %w", err)
	}
	return err
}

// cut returns ErrTruncated when the request's deadline has passed or its
// context is done: the body may have ended only because it was cut then.
// A body ending at its deadline is taken to be cut, to be safe.
func (b *limitedBody) cut() error {
	err := b.ctx.Err()
	if deadline, ok := b.ctx.Deadline(); ok && !time.Now().Before(deadline) && err == nil {
		err = context.DeadlineExceeded
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: cut by the %v fetch timeout after %d bytes: %w", ErrTruncated, b.timeout, b.n, err)
	}
	return fmt.Errorf("%w: cut after %d bytes: %w", ErrTruncated, b.n, err)
}
