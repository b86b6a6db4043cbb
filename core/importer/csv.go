package importer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"ptdesk/core"
)

// maxRecordBytes bounds one CSV record. A quote that is opened and never
// closed would otherwise make the rest of the file one field held in memory;
// real patient rows are a few hundred bytes.
const maxRecordBytes = 1 << 20

// errRecordTooLong stops a runaway record (see maxRecordBytes).
var errRecordTooLong = errors.New("record longer than 1 MiB")

// recordLimiter sits under the CSV reader's buffer and fails the read once
// the current record has consumed more than maxRecordBytes.
type recordLimiter struct {
	r     io.Reader
	n     int64 // bytes handed to the buffer so far
	start int64 // offset where the current record starts
	off   bool  // no limit (FHIR, which bounds its own values)
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if !l.off && l.n-l.start > maxRecordBytes+sniffSize {
		return 0, errRecordTooLong
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// csvRows reads a CSV file after its header.
type csvRows struct {
	r     *csv.Reader
	limit *recordLimiter
	cols  []Column // mapped columns only
	order DateOrder
	line  int // line of the last record read, for fatal errors
}

func (rd *Reader) openCSV(buf *bufio.Reader, head []byte, limit *recordLimiter, opts Options) error {
	delim := detectDelimiter(head)
	rd.info.Delimiter = delim
	r := csv.NewReader(buf)
	r.Comma = delim
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	// Leading spaces before a quote ("a, "Smith, Jr"") are common; but for
	// tabs, trimming would swallow empty fields, so only for the others.
	r.TrimLeadingSpace = delim != '\t'

	c := &csvRows{r: r, limit: limit, order: opts.DateOrder}
	var header []string
	for {
		rec, err := c.read()
		if err == io.EOF {
			return core.Errorf(core.EINVALID, "file", "The file is empty: it has no header line and no rows.")
		}
		if err != nil {
			return err
		}
		if !blank(rec) {
			header = make([]string, len(rec))
			for i, h := range rec {
				header[i] = strings.TrimSpace(h)
			}
			break
		}
	}
	cols, err := mapColumns(header, opts.Mapping)
	if err != nil {
		return err
	}
	rd.info.Header = header
	rd.info.Columns = cols
	for _, col := range cols {
		if col.Field == "" {
			rd.info.Ignored = append(rd.info.Ignored, col.Header)
		} else {
			c.cols = append(c.cols, col)
			f := col.Field
			if f == FieldBirthDate {
				f = FieldBirthYear
			}
			rd.info.Fields = append(rd.info.Fields, f)
		}
	}
	rd.next = c.next
	return nil
}

// read reads one record, keeping the line count and the record limit.
func (c *csvRows) read() ([]string, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if errors.Is(err, errRecordTooLong) {
		return nil, core.Errorf(core.EINVALID, "file",
			"The row after line %d does not end within 1 MiB: a quote (\") opened in it is never closed. Fix the quotes and import again.", c.line)
	}
	if err != nil {
		return nil, fmt.Errorf("read CSV after line %d: %w", c.line, err)
	}
	c.line, _ = c.r.FieldPos(0)
	c.limit.start = c.r.InputOffset()
	return rec, nil
}

func (c *csvRows) next() (Row, error) {
	for {
		rec, err := c.read()
		if err != nil {
			return Row{}, err
		}
		if blank(rec) {
			continue
		}
		row := Row{Number: c.line, Raw: rec}
		row.Patient, row.Errs = c.patient(rec)
		if len(row.Errs) > 0 {
			row.Err = row.Errs[0]
		}
		return row, nil
	}
}

// patient fills a candidate from the mapped columns and says which could
// not be read; a short (ragged) row reads its missing columns as empty,
// extra fields are not read.
func (c *csvRows) patient(rec []string) (core.Patient, []error) {
	var p core.Patient
	var errs []error
	for _, col := range c.cols {
		v := ""
		if col.Index < len(rec) {
			v = strings.TrimSpace(rec[col.Index])
		}
		var err error
		switch col.Field {
		case FieldID:
			p.ID = v
		case FieldFirstName:
			p.FirstName = v
		case FieldLastName:
			p.LastName = v
		case FieldBirthDate, FieldBirthYear:
			p.BirthYear, err = ParseBirthYear(v, c.order, col.Field)
		case FieldGender:
			p.Gender, err = ParseGenderWord(v, FieldGender)
		case FieldEmail:
			p.Email = v
		case FieldPhone:
			p.Phone = v
		case FieldDiagnosis:
			p.DiagnosisCode = v
		}
		if err != nil {
			errs = append(errs, inColumn(err, col.Header))
		}
	}
	return p, errs
}

// inColumn adds the column's header to a field error, since the user knows
// the file by its headers.
func inColumn(err error, header string) error {
	var e *core.Error
	if errors.As(err, &e) {
		return core.Errorf(e.Code, e.Field, "%s (column %q)", e.Message, header)
	}
	return err
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// delimiters are the candidates, comma first so that it wins ties.
var delimiters = []rune{',', ';', '\t'}

// detectDelimiter picks the separator that occurs, outside quotes, in the
// header and most consistently in the records that follow. A file whose
// header has none of them has one column; comma is as good as any then.
func detectDelimiter(head []byte) rune {
	const maxRecords = 20
	var counts [][3]int // per record, per candidate
	var cur [3]int
	nonBlank := false
	inQuote := false
	fieldStart := true
	flush := func() {
		if nonBlank {
			counts = append(counts, cur)
		}
		cur, nonBlank, fieldStart = [3]int{}, false, true
	}
	for i := 0; i < len(head) && len(counts) < maxRecords; i++ {
		b := head[i]
		if inQuote {
			if b == '"' {
				if i+1 < len(head) && head[i+1] == '"' {
					i++
				} else {
					inQuote = false
				}
			}
			continue
		}
		switch b {
		case '"':
			if fieldStart {
				inQuote = true
			}
			nonBlank = true
			fieldStart = false
		case '\n':
			flush()
		case '\r', ' ':
			// Spaces before a quote still count as the field's start.
		default:
			fieldStart = false
			nonBlank = true
			for k, d := range delimiters {
				if rune(b) == d {
					cur[k]++
					fieldStart = true
				}
			}
		}
	}
	if len(counts) == 0 {
		flush()
	}
	if len(counts) == 0 {
		return ','
	}
	best, bestConsistent, bestHeader := ',', -1, 0
	for k, d := range delimiters {
		h := counts[0][k]
		if h == 0 {
			continue
		}
		consistent := 0
		for _, rc := range counts[1:] {
			if rc[k] == h {
				consistent++
			}
		}
		if consistent > bestConsistent || (consistent == bestConsistent && h > bestHeader) {
			best, bestConsistent, bestHeader = d, consistent, h
		}
	}
	return best
}
