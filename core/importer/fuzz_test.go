package importer_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/importer"
)

// FuzzCSV feeds arbitrary bytes to the CSV reader. It must never panic, and
// what it yields must hang together: rows in increasing line order, never
// more rows than lines, every readable row's names taken from its own
// record, and the bytes read never beyond the input.
func FuzzCSV(f *testing.F) {
	for _, name := range []string{"messy.csv", "semicolon.csv", "one-column.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("first,last\n\"a\nb\",c\n\n,,\nx"))
	f.Add([]byte("\xff\xfef\x00,\x00l\x00\n\x00"))
	f.Add([]byte("first;last;dob\n\"Ann;Lee\";\"\";31/02/1980\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := importer.NewReader(bytes.NewReader(data), importer.Options{Format: importer.FormatCSV})
		if err != nil {
			if core.ErrorCode(err) != core.EINVALID {
				t.Fatalf("NewReader error %v is not a user error", err)
			}
			return
		}
		info := r.Info()
		first, last := -1, -1
		for _, c := range info.Columns {
			switch c.Field {
			case importer.FieldFirstName:
				first = c.Index
			case importer.FieldLastName:
				last = c.Index
			}
		}
		if first < 0 || last < 0 {
			t.Fatalf("reader opened without both name columns: %+v", info.Columns)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		prev, n := 0, 0
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // a fatal read error ends the file; nothing to check after it
			}
			n++
			if row.Number <= prev {
				t.Fatalf("row %d starts on line %d, not after the previous row's line %d", n, row.Number, prev)
			}
			prev = row.Number
			if n > lines {
				t.Fatalf("%d rows from %d lines", n, lines)
			}
			if row.Err != nil {
				if core.ErrorField(row.Err) == "" {
					t.Fatalf("row error %v names no field", row.Err)
				}
				continue
			}
			if got := field(row.Raw, first); got != row.Patient.FirstName {
				t.Fatalf("first name %q, record has %q", row.Patient.FirstName, got)
			}
			if got := field(row.Raw, last); got != row.Patient.LastName {
				t.Fatalf("last name %q, record has %q", row.Patient.LastName, got)
			}
		}
		if r.BytesRead() > int64(len(data)) {
			t.Fatalf("read %d bytes of %d", r.BytesRead(), len(data))
		}
	})
}

func field(rec []string, i int) string {
	if i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}
