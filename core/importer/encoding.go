package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// The encodings NewReader reports in Info.Encoding.
const (
	EncodingUTF8        = "UTF-8"
	EncodingUTF8BOM     = "UTF-8 with BOM"
	EncodingUTF16LE     = "UTF-16LE"
	EncodingUTF16BE     = "UTF-16BE"
	EncodingWindows1252 = "Windows-1252"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decode picks the file's encoding from a byte order mark, else from whether
// the start of the file is valid UTF-8, and returns the file as UTF-8 text.
//
// Windows-1252 is the fallback because it is what spreadsheet programs on
// Western European and American Windows desktops write when they do not
// write UTF-8, and every byte is defined in it (the five holes decode to C1
// controls, which the name rules then refuse). A file that starts as valid
// UTF-8 but has a stray invalid byte later still reads: that byte alone is
// taken as Windows-1252, since a whole file can no longer be re-read once
// it is streaming.
func decode(src *bufio.Reader) (io.Reader, string, error) {
	head, err := src.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", fmt.Errorf("read the import file: %w", err)
	}
	atEOF := err == io.EOF
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		if _, err := src.Discard(len(bomUTF8)); err != nil {
			return nil, "", fmt.Errorf("read the import file: %w", err)
		}
		return transform.NewReader(src, utf8Lenient{}), EncodingUTF8BOM, nil
	case bytes.HasPrefix(head, bomUTF16LE):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		return transform.NewReader(src, dec), EncodingUTF16LE, nil
	case bytes.HasPrefix(head, bomUTF16BE):
		dec := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
		return transform.NewReader(src, dec), EncodingUTF16BE, nil
	case validUTF8Prefix(head, atEOF):
		return transform.NewReader(src, utf8Lenient{}), EncodingUTF8, nil
	}
	return transform.NewReader(src, charmap.Windows1252.NewDecoder()), EncodingWindows1252, nil
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing a rune cut in
// half at the end when more of the file follows.
func validUTF8Prefix(b []byte, atEOF bool) bool {
	if !atEOF {
		// Drop an incomplete last rune: at most utf8.UTFMax-1 bytes.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

// utf8Lenient passes UTF-8 through and reads any byte that is not part of
// valid UTF-8 as Windows-1252 (see decode).
type utf8Lenient struct{ transform.NopResetter }

// Transform implements transform.Transformer.
func (utf8Lenient) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		c := src[nSrc]
		if c < utf8.RuneSelf {
			if nDst >= len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			dst[nDst] = c
			nDst++
			nSrc++
			continue
		}
		r, size := utf8.DecodeRune(src[nSrc:])
		if r == utf8.RuneError && size == 1 {
			if !atEOF && !utf8.FullRune(src[nSrc:]) {
				return nDst, nSrc, transform.ErrShortSrc
			}
			r = charmap.Windows1252.DecodeByte(c)
			if nDst+utf8.RuneLen(r) > len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			nDst += utf8.EncodeRune(dst[nDst:], r)
			nSrc++
			continue
		}
		if nDst+size > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		copy(dst[nDst:], src[nSrc:nSrc+size])
		nDst += size
		nSrc += size
	}
	return nDst, nSrc, nil
}
