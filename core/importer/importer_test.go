package importer_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"ptdesk/core"
	"ptdesk/core/importer"
)

// readAll opens data and collects every row, copying Raw since the reader
// reuses it.
func readAll(t *testing.T, data []byte, opts importer.Options) (importer.Info, []importer.Row) {
	t.Helper()
	r, err := importer.NewReader(bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var rows []importer.Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d rows: %v", len(rows), err)
		}
		row.Raw = append([]string(nil), row.Raw...)
		rows = append(rows, row)
	}
	if got := r.BytesRead(); got != int64(len(data)) {
		t.Errorf("BytesRead = %d at the end, want the file size %d", got, len(data))
	}
	return r.Info(), rows
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func names(rows []importer.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Patient.FirstName+" "+r.Patient.LastName)
	}
	return out
}

func TestEncodings(t *testing.T) {
	const text = "First name;Last name;DOB\r\nJosé;Müller;31.12.1980\r\nZoë;Ångström;1975\r\n"
	utf16 := func(e unicode.Endianness) []byte {
		b, err := unicode.UTF16(e, unicode.UseBOM).NewEncoder().Bytes([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cp1252, err := charmap.Windows1252.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(cp1252, []byte{0xE9}) {
		t.Fatal("the Windows-1252 fixture should hold é as the single byte 0xE9")
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"utf-8", []byte(text), importer.EncodingUTF8},
		{"utf-8 bom", append([]byte{0xEF, 0xBB, 0xBF}, text...), importer.EncodingUTF8BOM},
		{"utf-16le bom", utf16(unicode.LittleEndian), importer.EncodingUTF16LE},
		{"utf-16be bom", utf16(unicode.BigEndian), importer.EncodingUTF16BE},
		{"windows-1252", cp1252, importer.EncodingWindows1252},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, rows := readAll(t, tt.data, importer.Options{})
			if info.Encoding != tt.want {
				t.Errorf("encoding = %q, want %q", info.Encoding, tt.want)
			}
			if info.Delimiter != ';' {
				t.Errorf("delimiter = %q, want ';'", info.Delimiter)
			}
			if got, want := names(rows), []string{"José Müller", "Zoë Ångström"}; !reflect.DeepEqual(got, want) {
				t.Errorf("names = %q, want %q", got, want)
			}
			if info.Header[0] != "First name" {
				t.Errorf("first header = %q: the BOM must not stick to it", info.Header[0])
			}
			if rows[0].Patient.BirthYear != 1980 || rows[1].Patient.BirthYear != 1975 {
				t.Errorf("birth years = %d, %d", rows[0].Patient.BirthYear, rows[1].Patient.BirthYear)
			}
		})
	}
}

// A file that starts as UTF-8 and has a Windows-1252 byte past the part
// looked at for detection still reads the byte as a letter.
func TestStrayWindows1252ByteAfterDetection(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("first,last\n")
	for b.Len() < 100<<10 {
		b.WriteString("Anne,Smith\n")
	}
	b.WriteString("Ren\xe9,Dupont\n")
	info, rows := readAll(t, b.Bytes(), importer.Options{})
	if info.Encoding != importer.EncodingUTF8 {
		t.Errorf("encoding = %q", info.Encoding)
	}
	if got := rows[len(rows)-1].Patient.FirstName; got != "René" {
		t.Errorf("last first name = %q, want René", got)
	}
}

func TestDelimiterDetection(t *testing.T) {
	tests := []struct {
		name string
		data string
		want rune
	}{
		{"comma", "first,last,dob\nA,B,1980\n", ','},
		{"semicolon", "first;last;dob\nA;B;1980\n", ';'},
		{"tab", "first\tlast\tdob\nA\tB\t1980\n", '\t'},
		{"semicolon with commas in quotes", "\"Notes, misc\";last;first\n\"a, b\";\"Smith, Jr\";Bob\n", ';'},
		{"comma with semicolons in quotes", "first,last\n\"A;B\",C\n", ','},
		{"no trailing newline", "first;last", ';'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := importer.NewReader(strings.NewReader(tt.data), importer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Info().Delimiter; got != tt.want {
				t.Errorf("delimiter = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTabKeepsEmptyFields(t *testing.T) {
	_, rows := readAll(t, []byte("id\tfirst\tlast\temail\n\tAnne\tSmith\tanne@example.org\n"), importer.Options{})
	p := rows[0].Patient
	if p.ID != "" || p.FirstName != "Anne" || p.LastName != "Smith" || p.Email != "anne@example.org" {
		t.Errorf("patient = %+v: an empty tab-separated field must stay in its column", p)
	}
}

func TestHeaderMapping(t *testing.T) {
	tests := []struct {
		header string
		want   []string // field per column
	}{
		{"ID,First Name,Last Name,Date of Birth,Gender,Email,Mobile Phone,Diagnosis Code",
			[]string{"id", "first_name", "last_name", "birth_date", "gender", "email", "mobile_phone", "diagnosis_code"}},
		{"Patient ID,Given name,Family name,DOB,Sex,E-mail,Cell,Diagnosis",
			[]string{"id", "first_name", "last_name", "birth_date", "gender", "email", "mobile_phone", "diagnosis_code"}},
		{"client_no,FORENAME,surname,birthdate,year of birth,e_mail,phone,notes",
			[]string{"id", "first_name", "last_name", "birth_date", "", "email", "mobile_phone", ""}},
		{"#,first_name,last_name,birth_year,Phone,Mobile",
			[]string{"id", "first_name", "last_name", "birth_year", "", "mobile_phone"}},
		{"File No.,Forename,Surname,Birth Date,Patient Number",
			[]string{"id", "first_name", "last_name", "birth_date", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			r, err := importer.NewReader(strings.NewReader(tt.header+"\n"), importer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range r.Info().Columns {
				got = append(got, c.Field)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExplicitMapping(t *testing.T) {
	m, err := importer.ParseMapping("Given=first_name, Fam = last_name ,Born=birth_date,Name=-,Phone=ignore")
	if err != nil {
		t.Fatal(err)
	}
	data := "Name,Given,Fam,Born,Phone\nAnne Smith,Anne,Smith,1980,+44 7911 123456\n"
	info, rows := readAll(t, []byte(data), importer.Options{Mapping: m})
	if got, want := info.Ignored, []string{"Name", "Phone"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ignored = %q, want %q", got, want)
	}
	p := rows[0].Patient
	if p.FirstName != "Anne" || p.LastName != "Smith" || p.BirthYear != 1980 || p.Phone != "" {
		t.Errorf("patient = %+v", p)
	}
}

func TestMappingErrors(t *testing.T) {
	tests := []struct {
		name, data, mapping string
		contains            []string
	}{
		{"one column file", "Name\nAnne Smith\n", "", []string{"first_name or last_name", `"Name"`}},
		{"no last name", "First,DOB\nA,1980\n", "", []string{"last_name", `"First", "DOB"`}},
		{"mapping names a missing column", "First,Last\nA,B\n", "Given=first_name", []string{`"Given"`, `"First", "Last"`}},
		{"two columns to one field", "A,B,Last\n1,2,3\n", "A=first_name,B=first_name", []string{"two columns", "first_name"}},
		{"empty file", "\n\n", "", []string{"empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := importer.ParseMapping(tt.mapping)
			if err != nil {
				t.Fatal(err)
			}
			_, err = importer.NewReader(strings.NewReader(tt.data), importer.Options{Mapping: m})
			if core.ErrorCode(err) != core.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	if _, err := importer.ParseMapping("Given=nickname"); core.ErrorField(err) != "mapping" {
		t.Errorf("unknown target: err = %v, want a mapping error", err)
	}
	if _, err := importer.ParseMapping("first_name"); core.ErrorField(err) != "mapping" {
		t.Errorf("no '=': err = %v, want a mapping error", err)
	}
}

func TestOneColumnFixture(t *testing.T) {
	_, err := importer.NewReader(bytes.NewReader(fixture(t, "one-column.csv")), importer.Options{})
	if err == nil || !strings.Contains(err.Error(), `"Name"`) || !strings.Contains(err.Error(), "first_name") {
		t.Fatalf("err = %v, want one naming the missing field and the header found", err)
	}
}

func TestMessyCSV(t *testing.T) {
	info, rows := readAll(t, fixture(t, "messy.csv"), importer.Options{DateOrder: importer.DayFirst})
	if info.Encoding != importer.EncodingUTF8BOM || info.Delimiter != ',' {
		t.Errorf("encoding %q, delimiter %q", info.Encoding, info.Delimiter)
	}
	if !reflect.DeepEqual(info.Ignored, []string{"Notes"}) {
		t.Errorf("ignored = %q", info.Ignored)
	}
	type want struct {
		line  int
		id    string
		name  string
		year  int
		field string // of the row error, "" for none
	}
	wants := []want{
		{2, "C-1", "Anne Smith", 1980, ""},
		{3, "C-2", "Bob O'Brien, Jr", 1980, ""}, // quoted newline: the row spans lines 3-4
		{6, "C-3", "Carla Diaz", 1985, ""},      // blank line 5 skipped; short row
		{7, "C-1", "Anne Smyth", 1980, ""},
		{8, "123-45-6789", "Sam Social", 1970, ""},
		{9, "", " Nobody", 1990, ""},
		{10, "C-4", "Dora Day", 0, "birth_date"},
		{11, "", "Eve Evans", 1992, ""}, // long row: extra fields ignored
	}
	if len(rows) != len(wants) {
		t.Fatalf("got %d rows, want %d: %q", len(rows), len(wants), names(rows))
	}
	for i, w := range wants {
		r := rows[i]
		if r.Number != w.line || r.Patient.ID != w.id || r.Patient.FirstName+" "+r.Patient.LastName != w.name ||
			r.Patient.BirthYear != w.year || core.ErrorField(r.Err) != w.field {
			t.Errorf("row %d = line %d id %q %q year %d err %v; want %+v", i, r.Number, r.Patient.ID,
				r.Patient.FirstName+" "+r.Patient.LastName, r.Patient.BirthYear, r.Err, w)
		}
	}
	if got := rows[1].Raw[7]; got != "two\nlines" {
		t.Errorf("quoted newline field = %q", got)
	}
	if g := rows[0].Patient.Gender; g != core.GenderFemale {
		t.Errorf("gender F = %q", g)
	}
	if g := rows[2].Patient.Gender; g != core.GenderFemale {
		t.Errorf("gender W = %q", g)
	}
	if g := rows[7].Patient.Gender; g != core.GenderOther {
		t.Errorf("gender X = %q", g)
	}
	if len(rows[7].Raw) != 10 || len(rows[2].Raw) != 6 {
		t.Errorf("raw lengths %d and %d: ragged rows must keep their own length", len(rows[7].Raw), len(rows[2].Raw))
	}
	if msg := rows[6].Err.Error(); !strings.Contains(msg, `"D.O.B."`) || !strings.Contains(msg, "30/02/1990") {
		t.Errorf("date error %q should name the column and the value", msg)
	}
}

// Every column that cannot be read is named, in column order, not only the
// first; the other columns are still read.
func TestRowNamesEveryUnreadableColumn(t *testing.T) {
	data := "Sex,First Name,Last Name,DOB\nq,Ann,Lee,31/31/1980\nF,Ben,Ng,1990\n"
	_, rows := readAll(t, []byte(data), importer.Options{})
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	var fields []string
	for _, err := range rows[0].Errs {
		fields = append(fields, core.ErrorField(err))
	}
	if !reflect.DeepEqual(fields, []string{"gender", "birth_date"}) || rows[0].Err != rows[0].Errs[0] {
		t.Errorf("row 2: errs %v (fields %q), err %v", rows[0].Errs, fields, rows[0].Err)
	}
	if p := rows[0].Patient; p.FirstName != "Ann" || p.LastName != "Lee" {
		t.Errorf("row 2 read as %+v: the readable columns are kept", p)
	}
	if rows[1].Err != nil || len(rows[1].Errs) != 0 || rows[1].Patient.BirthYear != 1990 {
		t.Errorf("row 3: %+v", rows[1])
	}
}

func TestSemicolonFixture(t *testing.T) {
	info, rows := readAll(t, fixture(t, "semicolon.csv"), importer.Options{})
	if info.Delimiter != ';' || len(info.Ignored) != 0 {
		t.Errorf("delimiter %q ignored %q", info.Delimiter, info.Ignored)
	}
	p := rows[0].Patient
	want := core.Patient{ID: "1001", FirstName: "Jürgen", LastName: "Groß", BirthYear: 1980, Gender: core.GenderMale,
		Email: "juergen@example.de", Phone: "+49 1512 3456789"}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("patient = %+v\nwant %+v", p, want)
	}
	if rows[1].Patient.Gender != core.GenderFemale {
		t.Errorf("W = %q, want female", rows[1].Patient.Gender)
	}
}

func TestParseBirthYear(t *testing.T) {
	tests := []struct {
		in    string
		order importer.DateOrder
		want  int
		bad   bool
	}{
		{"", importer.DayFirst, 0, false},
		{"1980", importer.DayFirst, 1980, false},
		{"1980-12-31", importer.MonthFirst, 1980, false},
		{"1980-12", importer.DayFirst, 1980, false},
		{"1980-12-31T00:00:00Z", importer.DayFirst, 1980, false},
		{"31/12/1980", importer.DayFirst, 1980, false},
		{"31/12/1980", importer.MonthFirst, 1980, false}, // unambiguous either way
		{"12/31/1980", importer.DayFirst, 1980, false},
		{"12/31/1980", importer.MonthFirst, 1980, false},
		{"03/04/1980", importer.MonthFirst, 1980, false},
		{"31.12.1980", importer.MonthFirst, 1980, false},
		{"31-12-1980", importer.DayFirst, 1980, false},
		{"31/12/1980 00:00", importer.DayFirst, 1980, false},
		{"19801231", importer.DayFirst, 1980, false},
		{"29/02/1980", importer.DayFirst, 1980, false}, // leap year
		{"31 Dec 1980", importer.DayFirst, 1980, false},
		{"December 31, 1980", importer.DayFirst, 1980, false},
		{"29/02/1981", importer.DayFirst, 0, true},
		{"30/02/1990", importer.DayFirst, 0, true},
		{"02/30/1990", importer.MonthFirst, 0, true},
		{"13/13/1980", importer.DayFirst, 0, true},
		{"1980-13-01", importer.DayFirst, 0, true},
		{"1980-02-30", importer.DayFirst, 0, true},
		{"31/12/80", importer.DayFirst, 0, true},
		{"31/12-1980", importer.DayFirst, 0, true},
		{"0000", importer.DayFirst, 0, true},
		{"yesterday", importer.DayFirst, 0, true},
		{"-1980", importer.DayFirst, 0, true},
		{"31 Feb 1980", importer.DayFirst, 0, true},
	}
	for _, tt := range tests {
		got, err := importer.ParseBirthYear(tt.in, tt.order, "birth_date")
		if tt.bad {
			if core.ErrorField(err) != "birth_date" || core.ErrorCode(err) != core.EINVALID {
				t.Errorf("%q: err = %v, want an EINVALID birth_date error", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q (%s) = %d, %v; want %d", tt.in, tt.order, got, err, tt.want)
		}
	}
}

func TestDateOrders(t *testing.T) {
	for region, want := range map[string]importer.DateOrder{"US": importer.MonthFirst, "ph": importer.MonthFirst,
		"FM": importer.MonthFirst, "GB": importer.DayFirst, "DE": importer.DayFirst, "AU": importer.DayFirst, "": importer.DayFirst} {
		if got := importer.DefaultDateOrder(region); got != want {
			t.Errorf("DefaultDateOrder(%q) = %q, want %q", region, got, want)
		}
	}
	for in, want := range map[string]importer.DateOrder{"dmy": importer.DayFirst, "MDY": importer.MonthFirst, "": ""} {
		if got, err := importer.ParseDateOrder(in); err != nil || got != want {
			t.Errorf("ParseDateOrder(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := importer.ParseDateOrder("ymd"); core.ErrorField(err) != "date-order" {
		t.Errorf("ParseDateOrder(ymd) err = %v", err)
	}
}

func TestParseGenderWord(t *testing.T) {
	tests := map[string]core.Gender{
		"F": core.GenderFemale, "female": core.GenderFemale, "Woman": core.GenderFemale, "w": core.GenderFemale,
		"Frau": core.GenderFemale, "femme": core.GenderFemale, "Mujer": core.GenderFemale, "Ms.": core.GenderFemale,
		"M": core.GenderMale, "MALE": core.GenderMale, "man": core.GenderMale, "H": core.GenderMale, "Mr.": core.GenderMale,
		"O": core.GenderOther, "x": core.GenderOther, "Diverse": core.GenderOther, "non-binary": core.GenderOther,
		"": core.GenderUnknown, "U": core.GenderUnknown, " unknown ": core.GenderUnknown,
	}
	for in, want := range tests {
		if got, err := importer.ParseGenderWord(in, "gender"); err != nil || got != want {
			t.Errorf("ParseGenderWord(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := importer.ParseGenderWord("robot", "gender"); core.ErrorField(err) != "gender" {
		t.Errorf("robot: err = %v, want a gender error", err)
	}
}

func TestFHIRBundle(t *testing.T) {
	info, rows := readAll(t, fixture(t, "bundle.json"), importer.Options{IdentifierSystem: "urn:clinic:patient-number"})
	if info.Format != importer.FormatFHIR {
		t.Errorf("format = %q", info.Format)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows (%q), want the 3 patients; the Observation is not one", len(rows), names(rows))
	}
	anne := rows[0]
	want := core.Patient{ID: "P1001", FirstName: "Anne Marie", LastName: "Smith-Jones", BirthYear: 1980,
		Gender: core.GenderFemale, Email: "anne@example.org", Phone: "+44 7911 123456"}
	if anne.Err != nil || !reflect.DeepEqual(anne.Patient, want) {
		t.Errorf("anne = %+v, %v\nwant %+v", anne.Patient, anne.Err, want)
	}
	if anne.Number != 6 {
		t.Errorf("anne's entry starts on line %d, want 6", anne.Number)
	}
	bob := rows[1]
	if bob.Patient.ID != "b2" || bob.Patient.Phone != "+1 604 543 9777" || bob.Patient.BirthYear != 1975 || bob.Number != 35 {
		t.Errorf("bob = %+v at line %d: the resource id, the only phone, the year-only date", bob.Patient, bob.Number)
	}
	chris := rows[2]
	if core.ErrorField(chris.Err) != "birth_date" {
		t.Errorf("chris err = %v, want the impossible birth date first", chris.Err)
	}
	if !reflect.DeepEqual(chris.Raw, []string{"c3", "Chris", "Clark", "1990-02-30", "robot", "", "", ""}) {
		t.Errorf("chris raw = %q", chris.Raw)
	}
	if !reflect.DeepEqual(info.Header, importer.FHIRHeader()) {
		t.Errorf("header = %q", info.Header)
	}
}

func TestFHIRBundleDefaultSystemFallsBackToResourceID(t *testing.T) {
	_, rows := readAll(t, fixture(t, "bundle.json"), importer.Options{})
	if rows[0].Patient.ID != "a1" {
		t.Errorf("id = %q, want the resource id a1 when no identifier has the system", rows[0].Patient.ID)
	}
}

func TestFHIRMinifiedBundleAndSinglePatient(t *testing.T) {
	bundle := `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"x1","name":[{"given":["Ann"],"family":"Lee"}]}}]}`
	_, rows := readAll(t, []byte(bundle), importer.Options{Format: importer.FormatFHIR})
	if len(rows) != 1 || rows[0].Patient.LastName != "Lee" || rows[0].Number != 1 {
		t.Errorf("minified bundle rows = %+v", rows)
	}
	single := "{\n  \"id\": \"s1\",\n  \"resourceType\": \"Patient\",\n  \"name\": [{\"given\": [\"Sol\"], \"family\": \"Vega\"}]\n}\n"
	_, rows = readAll(t, []byte(single), importer.Options{})
	if len(rows) != 1 || rows[0].Patient.ID != "s1" || rows[0].Patient.FirstName != "Sol" {
		t.Errorf("single patient rows = %+v", rows)
	}
}

func TestFHIRBrokenBundle(t *testing.T) {
	data := "{\"resourceType\":\"Bundle\",\"entry\":[\n{\"resource\":{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"A\"],\"family\":\"B\"}]}},\n{\"resource\": oops}\n]}"
	r, err := importer.NewReader(strings.NewReader(data), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first entry: %v", err)
	}
	_, err = r.Next()
	if core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), "Line 3") {
		t.Errorf("err = %v, want an EINVALID error naming line 3", err)
	}
}

func TestFHIRNDJSON(t *testing.T) {
	info, rows := readAll(t, fixture(t, "patients.ndjson"), importer.Options{})
	if info.Format != importer.FormatFHIR {
		t.Errorf("format = %q", info.Format)
	}
	if len(rows) != 4 {
		t.Fatalf("rows = %d (%q), want 4 patients (the practitioner and the blank line skipped)", len(rows), names(rows))
	}
	want := core.Patient{ID: "1042", FirstName: "Linh", LastName: "Nguyen", BirthYear: 1988, Gender: core.GenderFemale,
		Email: "linh@example.org", Phone: "+61 412 345 678", DiagnosisCode: "M54.5"}
	if rows[0].Err != nil || !reflect.DeepEqual(rows[0].Patient, want) || rows[0].Number != 1 {
		t.Errorf("row 0 = %+v %v line %d", rows[0].Patient, rows[0].Err, rows[0].Number)
	}
	if rows[1].Number != 4 || rows[1].Patient.Gender != core.GenderUnknown || rows[1].Patient.ID != "n2" {
		t.Errorf("row 1 = %+v line %d", rows[1].Patient, rows[1].Number)
	}
	if rows[2].Number != 5 || core.ErrorField(rows[2].Err) != "resource" {
		t.Errorf("broken line: line %d err %v; want line 5 with a row error", rows[2].Number, rows[2].Err)
	}
	if rows[3].Patient.LastName != "Old Style" || rows[3].Patient.BirthYear != 1960 {
		t.Errorf("DSTU2-style family = %+v", rows[3].Patient)
	}
}

func TestUnclosedQuoteStopsWithinBoundedMemory(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("first,last\nAnne,Smith\n\"Bob,Brown\n")
	for b.Len() < 3<<20 {
		b.WriteString("Carl,Clark\n")
	}
	r, err := importer.NewReader(&b, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	if core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), "after line 2") {
		t.Errorf("err = %v, want an EINVALID error about the row after line 2", err)
	}
}

func TestReadErrorsAreReturned(t *testing.T) {
	boom := errors.New("disk gone")
	src := io.MultiReader(strings.NewReader("first,last\nAnne,Smith\n"), errReader{boom})
	r, err := importer.NewReader(src, importer.Options{})
	if err == nil {
		for err == nil {
			_, err = r.Next()
		}
	}
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the read error", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]importer.Format{"": importer.FormatAuto, "CSV": importer.FormatCSV, "ndjson": importer.FormatFHIR, "fhir": importer.FormatFHIR} {
		if got, err := importer.ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := importer.ParseFormat("xlsx"); core.ErrorField(err) != "format" {
		t.Errorf("xlsx: %v", err)
	}
}
