package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"ptdesk/core"
)

// FHIRHeader names the values a FHIR row's Raw holds, so that rejected FHIR
// patients can be written out as a CSV that this package imports again.
func FHIRHeader() []string {
	return []string{FieldID, FieldFirstName, FieldLastName, FieldBirthDate, FieldGender, FieldEmail, FieldPhone, FieldDiagnosis}
}

// fhirPatient is the part of a FHIR R4 Patient resource PT Desk reads.
// Every resource in a file is decoded into it; only resourceType "Patient"
// becomes a row.
type fhirPatient struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Identifier   []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
	Name []struct {
		Use    string     `json:"use"`
		Family fhirFamily `json:"family"`
		Given  []string   `json:"given"`
	} `json:"name"`
	BirthDate string `json:"birthDate"`
	Gender    string `json:"gender"`
	Telecom   []struct {
		System string `json:"system"`
		Value  string `json:"value"`
		Use    string `json:"use"`
	} `json:"telecom"`
	Extension []struct {
		URL         string `json:"url"`
		ValueString string `json:"valueString"`
	} `json:"extension"`
}

// fhirFamily reads a family name written as R4's string or as the list that
// older (DSTU2) exports still produce.
type fhirFamily string

func (f *fhirFamily) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = fhirFamily(s)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("family name is neither text nor a list of text")
	}
	*f = fhirFamily(strings.Join(list, " "))
	return nil
}

// fhirRows turns resources into rows.
type fhirRows struct {
	system string
	raw    []string
}

// row reads one resource's JSON; ok is false for resources that are not
// patients, which an import skips.
func (f *fhirRows) row(line int, data []byte) (row Row, ok bool) {
	var res fhirPatient
	err := json.Unmarshal(data, &res)
	if err == nil && res.ResourceType != "Patient" {
		return Row{}, false
	}
	row.Number = line
	if err != nil {
		// Say what could be read of it; the resource type may be all.
		var probe struct {
			ResourceType string `json:"resourceType"`
		}
		if json.Unmarshal(data, &probe) == nil && probe.ResourceType != "Patient" {
			return Row{}, false
		}
		row.Err = core.Errorf(core.EINVALID, "resource", "This Patient resource is not valid FHIR R4 JSON: %v.", err)
		row.Errs = []error{row.Err}
		row.Raw = make([]string, len(FHIRHeader()))
		return row, true
	}
	p := &row.Patient
	p.ID = res.ID
	for _, id := range res.Identifier {
		if id.System == f.system && strings.TrimSpace(id.Value) != "" {
			p.ID = id.Value
			break
		}
	}
	if len(res.Name) > 0 {
		n := res.Name[0]
		for _, cand := range res.Name {
			if cand.Use == "official" {
				n = cand
				break
			}
		}
		p.FirstName = strings.Join(n.Given, " ")
		p.LastName = string(n.Family)
	}
	var phone, mobile string
	for _, t := range res.Telecom {
		switch t.System {
		case "email":
			if p.Email == "" {
				p.Email = t.Value
			}
		case "phone", "sms":
			if phone == "" {
				phone = t.Value
			}
			if t.Use == "mobile" && mobile == "" {
				mobile = t.Value
			}
		}
	}
	p.Phone = mobile
	if p.Phone == "" {
		p.Phone = phone
	}
	for _, e := range res.Extension {
		if e.URL == DiagnosisExtensionURL {
			p.DiagnosisCode = e.ValueString
		}
	}
	var gerr error
	// FHIR dates are always year-first, so the date order does not matter.
	p.BirthYear, err = ParseBirthYear(res.BirthDate, DayFirst, FieldBirthDate)
	p.Gender, gerr = ParseGenderWord(res.Gender, FieldGender)
	for _, e := range []error{err, gerr} {
		if e != nil {
			row.Errs = append(row.Errs, e)
		}
	}
	if len(row.Errs) > 0 {
		row.Err = row.Errs[0]
	}
	row.Raw = append(f.raw[:0], p.ID, p.FirstName, p.LastName, res.BirthDate, res.Gender, p.Email, p.Phone, p.DiagnosisCode)
	f.raw = row.Raw
	return row, true
}

func (rd *Reader) openFHIR(buf *bufio.Reader, head []byte, opts Options) error {
	rd.info.Header = FHIRHeader()
	// Diagnosis codes are not part of FHIR's Patient; only PT Desk's own
	// extension carries one, so a resource without it keeps the stored code.
	rd.info.Fields = []string{FieldID, FieldFirstName, FieldLastName, FieldBirthYear, FieldGender, FieldEmail, FieldPhone}
	f := &fhirRows{system: opts.IdentifierSystem}
	if isNDJSON(head) {
		n := &ndjsonRows{r: buf, fhir: f}
		rd.next = n.next
		return nil
	}
	lc := &lineCounter{r: buf}
	b := &bundleRows{dec: json.NewDecoder(lc), lines: lc, fhir: f}
	rd.next = b.next
	return nil
}

// isNDJSON reports whether the file is one resource per line: its first
// line is a whole JSON object other than a Bundle. A pretty-printed or
// one-line Bundle, or a first line too long to see, goes to the streaming
// JSON reader, which reads both.
func isNDJSON(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	i := bytes.IndexByte(head, '\n')
	if i < 0 {
		return false
	}
	var probe struct {
		ResourceType string `json:"resourceType"`
	}
	first := bytes.TrimSpace(head[:i])
	return len(first) > 0 && first[0] == '{' && json.Unmarshal(first, &probe) == nil && probe.ResourceType != "Bundle"
}

// ndjsonRows reads FHIR bulk data: one resource per line. A line that is not
// JSON is a row error, not the end of the import, because the lines are
// independent.
type ndjsonRows struct {
	r    *bufio.Reader
	fhir *fhirRows
	line int
}

func (n *ndjsonRows) next() (Row, error) {
	for {
		data, err := n.readLine()
		if err == io.EOF && len(data) == 0 {
			return Row{}, io.EOF
		}
		if err != nil && err != io.EOF {
			return Row{}, err
		}
		n.line++
		data = bytes.TrimSpace(data)
		if len(data) == 0 {
			continue
		}
		if row, ok := n.fhir.row(n.line, data); ok {
			return row, nil
		}
	}
}

// readLine reads one line, refusing lines over maxRecordBytes so that a file
// without line breaks cannot fill memory.
func (n *ndjsonRows) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := n.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxRecordBytes {
			return nil, core.Errorf(core.EINVALID, "file", "Line %d is longer than 1 MiB; NDJSON holds one resource per line.", n.line+1)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read NDJSON line %d: %w", n.line+1, err)
		}
		return line, err
	}
}

// bundleRows streams a Bundle's entries with the decoder's tokens, so a
// bundle of any size is read one entry at a time. The same reader takes a
// single Patient resource and JSON values one after another.
type bundleRows struct {
	dec   *json.Decoder
	lines *lineCounter
	fhir  *fhirRows
	state int
	// For the top-level object being read: its type and the members that
	// are not "entry", in case it turns out to be a Patient itself.
	resourceType string
	members      map[string]json.RawMessage
	objLine      int
}

const (
	bundleTop = iota
	bundleMembers
	bundleEntries
)

func (b *bundleRows) next() (Row, error) {
	for {
		switch b.state {
		case bundleTop:
			tok, err := b.dec.Token()
			if err == io.EOF {
				return Row{}, io.EOF
			}
			if err != nil {
				return Row{}, b.fail(err)
			}
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return Row{}, core.Errorf(core.EINVALID, "file", "Line %d: the FHIR file must be a Bundle object or NDJSON (one resource per line).", b.lines.lineAt(b.dec.InputOffset()))
			}
			b.state = bundleMembers
			b.resourceType = ""
			b.members = map[string]json.RawMessage{}
			b.objLine = b.lines.lineAt(b.dec.InputOffset() - 1)
		case bundleMembers:
			if !b.dec.More() {
				if _, err := b.dec.Token(); err != nil { // the closing brace
					return Row{}, b.fail(err)
				}
				b.state = bundleTop
				if b.resourceType == "Patient" {
					b.members["resourceType"] = json.RawMessage(`"Patient"`)
					data, err := json.Marshal(b.members)
					if err != nil {
						return Row{}, fmt.Errorf("re-encode a Patient resource: %w", err)
					}
					if row, ok := b.fhir.row(b.objLine, data); ok {
						return row, nil
					}
				}
				continue
			}
			tok, err := b.dec.Token()
			if err != nil {
				return Row{}, b.fail(err)
			}
			key, _ := tok.(string)
			switch key {
			case "entry":
				tok, err := b.dec.Token()
				if err != nil {
					return Row{}, b.fail(err)
				}
				if d, ok := tok.(json.Delim); !ok || d != '[' {
					return Row{}, core.Errorf(core.EINVALID, "file", "Line %d: the Bundle's entry must be a list.", b.lines.lineAt(b.dec.InputOffset()))
				}
				b.state = bundleEntries
			case "resourceType":
				if err := b.dec.Decode(&b.resourceType); err != nil {
					return Row{}, b.fail(err)
				}
			default:
				var v json.RawMessage
				if err := b.dec.Decode(&v); err != nil {
					return Row{}, b.fail(err)
				}
				b.members[key] = v
			}
		case bundleEntries:
			if !b.dec.More() {
				if _, err := b.dec.Token(); err != nil { // the closing bracket
					return Row{}, b.fail(err)
				}
				b.state = bundleMembers
				continue
			}
			var raw json.RawMessage
			if err := b.dec.Decode(&raw); err != nil {
				return Row{}, b.fail(err)
			}
			line := b.lines.lineAt(b.dec.InputOffset() - int64(len(raw)))
			var entry struct {
				Resource json.RawMessage `json:"resource"`
			}
			if err := json.Unmarshal(raw, &entry); err != nil || len(entry.Resource) == 0 {
				continue // not an entry with a resource: nothing to import
			}
			if row, ok := b.fhir.row(line, entry.Resource); ok {
				return row, nil
			}
		}
	}
}

// fail reports broken JSON with its line; the rest of a Bundle cannot be
// read after it, so the import stops.
func (b *bundleRows) fail(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return core.Errorf(core.EINVALID, "file", "Line %d is not valid JSON (%v); fix the file and import again.", b.lines.lineAt(syn.Offset), err)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return core.Errorf(core.EINVALID, "file", "The FHIR file ends in the middle of a resource; it may have been cut short.")
	}
	return fmt.Errorf("read FHIR JSON: %w", err)
}

// lineCounter records where lines start in the text handed to the JSON
// decoder, so an offset the decoder reports can be turned into a line
// number. Offsets are asked for in increasing order, so the line starts
// already passed are dropped and memory stays bounded by the read-ahead.
type lineCounter struct {
	r      io.Reader
	n      int64   // bytes read so far
	breaks []int64 // offsets of newlines not yet passed
	passed int     // newlines before breaks[0]
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.breaks = append(l.breaks, l.n+int64(i))
		}
	}
	l.n += int64(n)
	return n, err
}

// lineAt is the 1-based line of offset off.
func (l *lineCounter) lineAt(off int64) int {
	i := 0
	for i < len(l.breaks) && l.breaks[i] < off {
		i++
	}
	l.passed += i
	l.breaks = l.breaks[i:]
	if len(l.breaks) == 0 {
		l.breaks = nil
	}
	return l.passed + 1
}
