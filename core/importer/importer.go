// Package importer reads patient lists exported by other practice management
// systems — CSV files in whatever delimiter, encoding and date order the
// clinic's old system chose, and FHIR R4 Patient resources (a Bundle or bulk
// NDJSON) — and turns each record into a candidate core.Patient.
//
// It is forgiving in what it reads and leaves being strict to the caller: a
// candidate is not normalized, and a row that cannot be read at all carries a
// *core.Error naming the field instead of a patient. Nothing here touches a
// store; core/desk decides what is added, updated or refused. Files are
// streamed, so a million-row export is read in constant memory.
package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"ptdesk/core"
)

// Format is the kind of file being imported.
type Format string

// The formats Reader understands. FormatAuto looks at the content: a file
// whose first character is "{" or "[" is FHIR JSON, anything else is CSV.
const (
	FormatAuto Format = ""
	FormatCSV  Format = "csv"
	FormatFHIR Format = "fhir"
)

// ParseFormat accepts the names a person types: csv, fhir, json, ndjson, or
// auto / "" for detection by content.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return FormatAuto, nil
	case "csv", "tsv", "txt":
		return FormatCSV, nil
	case "fhir", "json", "ndjson":
		return FormatFHIR, nil
	}
	return FormatAuto, core.Errorf(core.EINVALID, "format", "Import format %q is not csv, fhir or auto.", s)
}

// DefaultIdentifierSystem is the FHIR identifier system under which PT Desk
// exports its own patient ids, so that its exports re-import with the same
// ids by default.
const DefaultIdentifierSystem = "urn:ptdesk:patient-id"

// DiagnosisExtensionURL is the FHIR Patient extension PT Desk exports the
// diagnosis code in; FHIR's Patient has no field for it.
const DiagnosisExtensionURL = "urn:ptdesk:diagnosis-code"

// Options tell a Reader what cannot be detected reliably.
type Options struct {
	// Format forces csv or fhir; FormatAuto detects it.
	Format Format
	// Mapping overrides the automatic column mapping of a CSV file: header
	// (matched case- and punctuation-insensitively) to target field. See
	// ParseMapping.
	Mapping Mapping
	// DateOrder settles dates like 03/04/1980 whose day and month could be
	// either; empty means DayFirst.
	DateOrder DateOrder
	// IdentifierSystem picks the FHIR identifier that holds the clinic's
	// patient id; empty means DefaultIdentifierSystem. Without a matching
	// identifier the resource id is used.
	IdentifierSystem string
}

// Row is one record of the file: a candidate patient, or the reason it could
// not be read.
type Row struct {
	// Number is where the record starts in the file: the line number for
	// CSV and NDJSON (counting from 1, header included), the line of the
	// entry for a FHIR Bundle.
	Number int
	// Patient is the candidate as read, not yet normalized or validated.
	Patient core.Patient
	// Raw is the original record (for FHIR: the values read, in the order of
	// Info.Header), so a rejected row can be written back out for the user
	// to fix. It is only valid until the next call to Next.
	Raw []string
	// Err, when set, is a *core.Error naming the field that could not be
	// read; Patient is then incomplete. Errs lists every such field, Err
	// being the first.
	Err  error
	Errs []error
}

// Info is what was detected about the file, for the import report and the
// preview.
type Info struct {
	Format Format
	// Encoding is one of the Encoding... names.
	Encoding string
	// Delimiter is the CSV field separator (0 for FHIR).
	Delimiter rune
	// Header is the CSV header as read, or for FHIR the names of the values
	// in Row.Raw.
	Header []string
	// Columns says which field each header column fills ("" for ignored).
	Columns []Column
	// Ignored lists the headers of the columns that are not imported.
	Ignored []string
	// Fields are the patient fields the file provides at all (Field...
	// names, a birth date counted as FieldBirthYear). An update of an
	// existing patient should keep the stored values of the others rather
	// than clear them.
	Fields []string
}

// Provides reports whether the file has a column (or, for FHIR, an element)
// for field, one of the Field... names.
func (i Info) Provides(field string) bool {
	if field == FieldBirthDate {
		field = FieldBirthYear
	}
	for _, f := range i.Fields {
		if f == field {
			return true
		}
	}
	return false
}

// Column is one header column and the field it fills.
type Column struct {
	Index  int
	Header string
	// Field is one of the Field... names, or "" when the column is ignored.
	Field string
}

// Reader yields the rows of an import file one at a time.
type Reader struct {
	info  Info
	count *countingReader
	next  func() (Row, error)
}

// sniffSize is how much of the file is looked at to detect the encoding, the
// format and the delimiter.
const sniffSize = 64 << 10

// NewReader detects the file's encoding and format, reads the CSV header and
// maps its columns. An error here is a *core.Error the user can act on (an
// unknown mapping target, no name columns) or a read failure.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if opts.DateOrder == "" {
		opts.DateOrder = DayFirst
	}
	if opts.IdentifierSystem == "" {
		opts.IdentifierSystem = DefaultIdentifierSystem
	}
	count := &countingReader{r: r}
	text, enc, err := decode(bufio.NewReaderSize(count, sniffSize))
	if err != nil {
		return nil, err
	}
	rd := &Reader{count: count}
	rd.info.Encoding = enc

	limit := &recordLimiter{r: text}
	buf := bufio.NewReaderSize(limit, sniffSize)
	head, err := buf.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("read the import file: %w", err)
	}
	format := opts.Format
	if format == FormatAuto {
		format = FormatCSV
		if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			format = FormatFHIR
		}
	}
	rd.info.Format = format
	switch format {
	case FormatCSV:
		err = rd.openCSV(buf, head, limit, opts)
	case FormatFHIR:
		err = rd.openFHIR(buf, head, opts)
	default:
		return nil, core.Errorf(core.EINVALID, "format", "Import format %q is not csv, fhir or auto.", format)
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// Info describes what was detected when the reader was opened.
func (r *Reader) Info() Info { return r.info }

// Next returns the next row, or io.EOF after the last. Any other error means
// the rest of the file cannot be read (an I/O failure, broken JSON, a quoted
// field that never ends); rows that merely have bad values come back with
// Row.Err set instead.
func (r *Reader) Next() (Row, error) { return r.next() }

// BytesRead is how many bytes of the file have been consumed so far, to show
// progress as a share of the file size. It runs a little ahead of the rows
// returned, by the size of the read buffers.
func (r *Reader) BytesRead() int64 { return r.count.n }

// countingReader counts the bytes of the original file for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
