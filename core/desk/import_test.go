package desk_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/secrets"
	"ptdesk/core/sqlite"
)

var importNow = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// importDesk is a desk on a fresh SQLite directory with the phone region
// set, so that day-first dates and local phone numbers read as in that
// country.
func importDesk(t testing.TB, region string) *desk.Desk {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ptdesk.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	d := desk.New(desk.Options{Store: db, Secrets: secrets.NewMemory(), Now: func() time.Time { return importNow }, DeskUser: "tester"})
	t.Cleanup(func() { d.Close() })
	if err := d.SetPhoneRegion(ctx, region); err != nil {
		t.Fatal(err)
	}
	return d
}

func importString(t *testing.T, d *desk.Desk, data string, opts desk.ImportOptions) *desk.ImportReport {
	t.Helper()
	rep, err := d.Import(context.Background(), strings.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return rep
}

func importerFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "importer", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPatient(t *testing.T, d *desk.Desk, id string) *core.Patient {
	t.Helper()
	p, err := d.Patient(context.Background(), id)
	if err != nil {
		t.Fatalf("patient %s: %v", id, err)
	}
	return p
}

func patientCount(t *testing.T, d *desk.Desk) int {
	t.Helper()
	n, err := d.CountPatients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func searchNames(t *testing.T, d *desk.Desk, text string) []string {
	t.Helper()
	ps, err := d.Search(context.Background(), text, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.ID+" "+p.FullName())
	}
	return out
}

type counts struct{ Rows, Added, Updated, Skipped, Invalid int }

func countsOf(r *desk.ImportReport) counts {
	return counts{r.Rows, r.Added, r.Updated, r.Skipped, r.Invalid}
}

func problemRows(r *desk.ImportReport) map[int]string {
	m := map[int]string{}
	for _, p := range r.Problems {
		m[p.Row] = p.Field
	}
	return m
}

func TestImportMessyCSVAndReimportFixedErrors(t *testing.T) {
	d := importDesk(t, "GB")
	var errs bytes.Buffer
	rep, err := d.Import(context.Background(), bytes.NewReader(importerFixture(t, "messy.csv")), desk.ImportOptions{Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(rep), (counts{Rows: 8, Added: 4, Invalid: 4}); got != want {
		t.Fatalf("counts = %+v, want %+v; problems %+v", got, want, rep.Problems)
	}
	if rep.Format != "csv" || rep.Encoding != "UTF-8 with BOM" || rep.Delimiter != "comma" || rep.DateOrder != "dmy" {
		t.Errorf("detected %q %q %q %q", rep.Format, rep.Encoding, rep.Delimiter, rep.DateOrder)
	}
	if !reflect.DeepEqual(rep.Ignored, []string{"Notes"}) {
		t.Errorf("ignored = %q", rep.Ignored)
	}
	// Row 7 repeats id C-1, row 8's id is a social security number, row 9
	// has no first name, row 10 is the 30th of February.
	if got, want := problemRows(rep), map[int]string{7: "id", 8: "id", 9: "first_name", 10: "birth_date"}; !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %v, want %v (%+v)", got, want, rep.Problems)
	}
	if patientCount(t, d) != 4 {
		t.Errorf("count = %d, want 4", patientCount(t, d))
	}
	anne := mustPatient(t, d, "C-1")
	if anne.LastName != "Smith" || anne.BirthYear != 1980 || anne.Phone != "+447911123456" || anne.Gender != core.GenderFemale {
		t.Errorf("C-1 = %+v: the first row with the id wins, normalized", anne)
	}
	if bob := mustPatient(t, d, "C-2"); bob.LastName != "O'Brien, Jr" || bob.BirthYear != 1980 {
		t.Errorf("C-2 = %+v (12/31/1980 read month first in a day-first region)", bob)
	}
	if got := searchNames(t, d, "eve"); len(got) != 1 || !strings.HasSuffix(got[0], "Eve Evans") {
		t.Errorf("search eve = %q: an imported patient without id must be found at once", got)
	}

	// The error CSV holds the four rows, each with its line and reason.
	if !bytes.HasPrefix(errs.Bytes(), []byte("\uFEFF")) {
		t.Errorf("error CSV should start with a byte order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(errs.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatalf("error CSV: %v", err)
	}
	wantHeader := []string{"row", "error", "Client No", "First Name", "Surname", "D.O.B.", "Sex", "Email", "Mobile", "Notes"}
	if !reflect.DeepEqual(recs[0], wantHeader) {
		t.Errorf("error CSV header = %q", recs[0])
	}
	if len(recs) != 5 {
		t.Fatalf("error CSV has %d records, want header + 4", len(recs))
	}
	for i, row := range []string{"7", "8", "9", "10"} {
		if recs[i+1][0] != row || recs[i+1][1] == "" {
			t.Errorf("error record %d = %q", i, recs[i+1])
		}
	}
	if !strings.Contains(recs[2][1], "social security") {
		t.Errorf("SSN reason = %q", recs[2][1])
	}

	// The user fixes the file and imports it again: everything lands.
	recs[2][2] = "C-8"         // a clinic number instead of the SSN
	recs[3][3] = "Nora"        // the missing first name
	recs[4][5] = "28/02/1990"  // a real date
	recs[1][4] = "Smith-Smyth" // the repeated id C-1: update the first
	var fixed bytes.Buffer
	w := csv.NewWriter(&fixed)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	var errs2 bytes.Buffer
	rep = importString(t, d, fixed.String(), desk.ImportOptions{Errors: &errs2})
	if got, want := countsOf(rep), (counts{Rows: 4, Added: 3, Updated: 1}); got != want {
		t.Fatalf("re-import counts = %+v, want %+v; problems %+v", got, want, rep.Problems)
	}
	if errs2.Len() != 0 {
		t.Errorf("nothing rejected, yet the error CSV holds %q", errs2.String())
	}
	if !reflect.DeepEqual(rep.Ignored, []string{"row", "error", "Notes"}) {
		t.Errorf("re-import ignored = %q", rep.Ignored)
	}
	if patientCount(t, d) != 7 {
		t.Errorf("count = %d, want 7", patientCount(t, d))
	}
	if got := mustPatient(t, d, "C-1").LastName; got != "Smith-Smyth" {
		t.Errorf("C-1 last name = %q after the fixed row", got)
	}
	if got := mustPatient(t, d, "C-4").BirthYear; got != 1990 {
		t.Errorf("C-4 birth year = %d", got)
	}
}

func TestImportUpsertByIDAndPossibleDuplicates(t *testing.T) {
	ctx := context.Background()
	d := importDesk(t, "GB")
	anne, _, err := d.AddPatient(ctx, core.Patient{FirstName: "Anne", LastName: "Smith", BirthYear: 1980, Email: "anne@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	data := "id,first_name,last_name,birth_year,email\n" +
		anne.ID + ",Anne,Smith-Jones,1980,anne@new.example.org\n" + // id exists: update
		",Bob,Brown,1975,\n" + // new
		",bob,BROWN,1975,\n" + // same as the row before: possible duplicate
		",Anne,Smith-Jones,1980,\n" + // same as the updated patient
		",Anne,Smith-Jones,1981,\n" // another year: a different person
	var errs bytes.Buffer
	rep := importString(t, d, data, desk.ImportOptions{Errors: &errs})
	if got, want := countsOf(rep), (counts{Rows: 5, Added: 2, Updated: 1, Skipped: 2}); got != want {
		t.Fatalf("counts = %+v, want %+v (%+v)", got, want, rep.Problems)
	}
	if got := problemRows(rep); !reflect.DeepEqual(got, map[int]string{4: "id", 5: "id"}) {
		t.Errorf("problems = %+v", rep.Problems)
	}
	if !strings.Contains(rep.Problems[1].Reason, "patient "+anne.ID) {
		t.Errorf("reason %q should name the patient it looks like", rep.Problems[1].Reason)
	}
	got := mustPatient(t, d, anne.ID)
	if got.LastName != "Smith-Jones" || got.Email != "anne@new.example.org" || !got.CreatedAt.Equal(anne.CreatedAt) {
		t.Errorf("updated = %+v: same id, same creation, new values", got)
	}
	if n := patientCount(t, d); n != 3 {
		t.Errorf("count = %d, want 3", n)
	}
	if !strings.Contains(errs.String(), "looks like patient") {
		t.Errorf("skipped rows belong in the error CSV: %q", errs.String())
	}

	// Forced, the same id-less rows are added.
	rep = importString(t, d, "first_name,last_name,birth_year\nbob,BROWN,1975\n", desk.ImportOptions{Force: true})
	if got, want := countsOf(rep), (counts{Rows: 1, Added: 1}); got != want {
		t.Errorf("forced counts = %+v, want %+v", got, want)
	}
}

func TestImportRefusesAnIDUsedTwice(t *testing.T) {
	d := importDesk(t, "GB")
	// Row 2 gets the next free id (1); row 3 names id 1 itself, and row 4
	// repeats row 3's... neither may overwrite another patient.
	data := "id,first,last\n,Amy,Adams\n1,Ben,Baker\n1,Cat,Cole\n"
	rep := importString(t, d, data, desk.ImportOptions{})
	if got, want := countsOf(rep), (counts{Rows: 3, Added: 1, Invalid: 2}); got != want {
		t.Fatalf("counts = %+v, want %+v (%+v)", got, want, rep.Problems)
	}
	if p := mustPatient(t, d, "1"); p.FirstName != "Amy" {
		t.Errorf("patient 1 = %+v, want Amy untouched", p)
	}
	if !strings.Contains(rep.Problems[0].Reason, "row 2") {
		t.Errorf("reason %q should name the earlier row", rep.Problems[0].Reason)
	}
}

// Past the points where the ids seen are compacted, a repeated id is still
// caught, whether it was compacted or is among the latest.
func TestImportRefusesRepeatedIDsInALongFile(t *testing.T) {
	d := importDesk(t, "GB")
	var b strings.Builder
	b.WriteString("id,first,last\n")
	const n = 2*16384 + 100 // two compactions, the second into ids already compacted
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "A%d,First%d,Last%d\n", i, i, i)
	}
	b.WriteString("A7,Again,Seven\nA32867,Again,Late\n")
	rep := importString(t, d, b.String(), desk.ImportOptions{})
	if got, want := countsOf(rep), (counts{Rows: n + 2, Added: n, Invalid: 2}); got != want {
		t.Fatalf("counts = %+v, want %+v", got, want)
	}
	if !strings.Contains(rep.Problems[0].Reason, "row 8 ") || !strings.Contains(rep.Problems[1].Reason, fmt.Sprintf("row %d ", n)) {
		t.Errorf("problems %+v should name rows 8 and %d", rep.Problems, n)
	}
	if p := mustPatient(t, d, "A7"); p.FirstName != "First7" {
		t.Errorf("A7 = %+v", p)
	}
}

func TestImportKeepsFieldsTheFileLacks(t *testing.T) {
	ctx := context.Background()
	d := importDesk(t, "GB")
	p, _, err := d.AddPatient(ctx, core.Patient{FirstName: "Anne", LastName: "Smith", BirthYear: 1980, Gender: core.GenderFemale,
		Email: "anne@example.org", Phone: "07911 123456", DiagnosisCode: "M54.5"})
	if err != nil {
		t.Fatal(err)
	}
	rep := importString(t, d, "Patient ID;Given name;Family name;E-mail\n"+p.ID+";Anne;Smythe;\n", desk.ImportOptions{})
	if rep.Updated != 1 {
		t.Fatalf("report %+v", rep)
	}
	got := mustPatient(t, d, p.ID)
	want := *p
	want.LastName, want.Email = "Smythe", "" // the file has an email column, empty
	if got.LastName != want.LastName || got.Email != want.Email || got.BirthYear != 1980 || got.Gender != core.GenderFemale ||
		got.Phone != "+447911123456" || got.DiagnosisCode != "M54.5" {
		t.Errorf("patient = %+v\nwant the columns the file lacks kept: %+v", got, want)
	}
}

func TestImportDryRunWritesNothing(t *testing.T) {
	d := importDesk(t, "GB")
	data := importerFixture(t, "messy.csv")
	var errs bytes.Buffer
	dry, err := d.Import(context.Background(), bytes.NewReader(data), desk.ImportOptions{DryRun: true, Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun || !strings.HasPrefix(dry.Summary(), "Dry run, nothing written") {
		t.Errorf("dry run report: %+v / %q", dry, dry.Summary())
	}
	if n := patientCount(t, d); n != 0 {
		t.Fatalf("a dry run wrote %d patients", n)
	}
	if got := searchNames(t, d, "smith"); len(got) != 0 {
		t.Errorf("search after dry run = %q", got)
	}
	if errs.Len() == 0 {
		t.Errorf("a dry run should still write the rejected rows")
	}
	real, err := d.Import(context.Background(), bytes.NewReader(data), desk.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if countsOf(dry) != countsOf(real) || !reflect.DeepEqual(dry.Problems, real.Problems) {
		t.Errorf("dry run %+v differs from the import %+v", countsOf(dry), countsOf(real))
	}
}

// generatedCSV is n rows of distinct patients, the first updating id 1.
func generatedCSV(n int) string {
	var b strings.Builder
	b.WriteString("id,first_name,last_name,birth_year,email\n")
	b.WriteString("1,Changed,Name,1970,\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, ",Gen%d,Zylberstein%d,%d,gen%d@example.org\n", i, i, 1930+i%90, i)
	}
	return b.String()
}

func TestImportCancelledMidwayLeavesDirectoryUnchanged(t *testing.T) {
	d := importDesk(t, "GB")
	before, _, err := d.AddPatient(context.Background(), core.Patient{FirstName: "Anne", LastName: "Smith", BirthYear: 1980})
	if err != nil {
		t.Fatal(err)
	}
	data := generatedCSV(3000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []desk.ImportProgress
	_, err = d.Import(ctx, strings.NewReader(data), desk.ImportOptions{
		Size: int64(len(data)),
		Progress: func(p desk.ImportProgress) {
			seen = append(seen, p)
			if p.Rows >= 1000 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancel", err)
	}
	if len(seen) == 0 || seen[len(seen)-1].Added < 999 {
		t.Fatalf("progress %+v: the import should have been well under way when cancelled", seen)
	}
	if n := patientCount(t, d); n != 1 {
		t.Errorf("count = %d after a cancelled import, want 1", n)
	}
	if got := searchNames(t, d, "zylberstein"); len(got) != 0 {
		t.Errorf("search finds %q after a cancelled import", got)
	}
	if got := mustPatient(t, d, before.ID); got.FirstName != "Anne" || got.Version != before.Version {
		t.Errorf("patient 1 = %+v after a cancelled import, want it untouched", got)
	}
}

func TestImportProgress(t *testing.T) {
	d := importDesk(t, "GB")
	data := generatedCSV(1200)
	var seen []desk.ImportProgress
	rep := importString(t, d, data, desk.ImportOptions{Size: int64(len(data)), Progress: func(p desk.ImportProgress) { seen = append(seen, p) }})
	if len(seen) < 3 {
		t.Fatalf("progress called %d times for 1200 rows", len(seen))
	}
	last := seen[len(seen)-1]
	if last.Rows != rep.Rows || last.Added != rep.Added || last.Bytes != int64(len(data)) || last.Percent() != 100 {
		t.Errorf("last progress %+v (%.1f%%), report %+v", last, last.Percent(), countsOf(rep))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Rows < seen[i-1].Rows || seen[i].Bytes < seen[i-1].Bytes {
			t.Errorf("progress went backwards: %+v then %+v", seen[i-1], seen[i])
		}
	}
	if (desk.ImportProgress{Bytes: 10}).Percent() != -1 {
		t.Errorf("percent without a size should be -1")
	}
}

// A file that breaks in the middle is not half imported.
func TestImportFatalErrorImportsNothing(t *testing.T) {
	tests := []struct {
		name, data string
	}{
		{"broken bundle", `{"resourceType":"Bundle","entry":[` +
			`{"resource":{"resourceType":"Patient","id":"a","name":[{"given":["Ann"],"family":"Lee"}]}},` +
			`{"resource":{"resourceType":"Patient","id":"b","name":[{"given":["Bo"],"family":"Lee"}]}},` + "\n" +
			`{"resource": nope}]}`},
		{"unclosed quote", "first,last\nAnn,Lee\nBo,Lee\n\"Cy,Lee\n" + strings.Repeat("Dee,Lee\n", 200000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := importDesk(t, "GB")
			_, err := d.Import(context.Background(), strings.NewReader(tt.data), desk.ImportOptions{})
			if core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), "nothing was imported") {
				t.Fatalf("err = %v, want an EINVALID error saying nothing was imported", err)
			}
			if n := patientCount(t, d); n != 0 {
				t.Errorf("%d patients imported from a broken file", n)
			}
		})
	}
}

func TestImportFHIR(t *testing.T) {
	d := importDesk(t, "GB")
	rep, err := d.Import(context.Background(), bytes.NewReader(importerFixture(t, "bundle.json")),
		desk.ImportOptions{IdentifierSystem: "urn:clinic:patient-number"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(rep), (counts{Rows: 3, Added: 2, Invalid: 1}); got != want || rep.Format != "fhir" {
		t.Fatalf("bundle %q counts = %+v, want %+v (%+v)", rep.Format, got, want, rep.Problems)
	}
	anne := mustPatient(t, d, "P1001")
	if anne.FirstName != "Anne Marie" || anne.LastName != "Smith-Jones" || anne.Phone != "+447911123456" || anne.Email != "anne@example.org" {
		t.Errorf("anne = %+v", anne)
	}

	var errs bytes.Buffer
	rep, err = d.Import(context.Background(), bytes.NewReader(importerFixture(t, "patients.ndjson")), desk.ImportOptions{Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(rep), (counts{Rows: 4, Added: 3, Invalid: 1}); got != want {
		t.Fatalf("ndjson counts = %+v, want %+v (%+v)", got, want, rep.Problems)
	}
	if p := mustPatient(t, d, "1042"); p.DiagnosisCode != "M54.5" || p.Phone != "+61412345678" {
		t.Errorf("1042 = %+v", p)
	}
	if !strings.HasPrefix(strings.TrimPrefix(errs.String(), "\uFEFF"), "row,error,id,first_name,last_name,birth_date,gender,email,mobile_phone,diagnosis_code\n") {
		t.Errorf("FHIR error CSV = %q", errs.String())
	}
}

func TestImportEncodingsAtTheDesk(t *testing.T) {
	d := importDesk(t, "DE")
	rep, err := d.Import(context.Background(), bytes.NewReader(importerFixture(t, "semicolon.csv")), desk.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 2 || rep.Delimiter != "semicolon" {
		t.Fatalf("report %+v", rep)
	}
	if got := searchNames(t, d, "gross"); len(got) != 1 || got[0] != "1001 Jürgen Groß" {
		t.Errorf("search gross = %q", got)
	}
	// Windows-1252: "Müller" with ü as the single byte 0xFC.
	rep = importString(t, d, "first;last;dob\nJos\xe9;M\xfcller;03/04/1980\n", desk.ImportOptions{})
	if rep.Added != 1 || rep.Encoding != "Windows-1252" {
		t.Fatalf("report %+v", rep)
	}
	if got := searchNames(t, d, "josé müller"); len(got) != 1 || !strings.HasSuffix(got[0], "José Müller") {
		t.Errorf("search = %q", got)
	}
}

func TestImportOptionErrors(t *testing.T) {
	d := importDesk(t, "GB")
	for _, opts := range []desk.ImportOptions{{Format: "xlsx"}, {DateOrder: "ymd"}, {Mapping: map[string]string{"first": "nickname"}}} {
		_, err := d.Import(context.Background(), strings.NewReader("first,last\nA,B\n"), opts)
		if core.ErrorCode(err) != core.EINVALID {
			t.Errorf("options %+v: err = %v, want EINVALID", opts, err)
		}
	}
	m, err := desk.ParseImportMapping("Given=first_name,Family=last_name")
	if err != nil {
		t.Fatal(err)
	}
	rep := importString(t, d, "Given,Family\nAnn,Lee\n", desk.ImportOptions{Mapping: m})
	if rep.Added != 1 {
		t.Errorf("mapped import: %+v", rep)
	}
}

// A row with several things wrong is rejected once, with every problem in
// the report and in the error CSV, so that it is fixed in one go; the rows
// around it are imported.
func TestImportReportsEveryProblemOfARow(t *testing.T) {
	d := importDesk(t, "GB")
	data := "Patient ID,First Name,Last Name,Date of Birth,Sex,Email,Mobile\n" +
		"P1,Ann,Lee,01/02/1980,F,ann@example.org,07911 123456\n" +
		"123-45-6789,,Khan,31/12/1850,q,not-an-email,12\n" +
		"P3,Ben,Ng,30/02/1990,M,ben@example.org,\n" +
		"P4,Cy,Ode,1975,O,,\n"
	var errs bytes.Buffer
	rep := importString(t, d, data, desk.ImportOptions{Errors: &errs})
	if got, want := countsOf(rep), (counts{Rows: 4, Added: 2, Invalid: 2}); got != want {
		t.Fatalf("counts = %+v, want %+v; problems %+v", got, want, rep.Problems)
	}
	fields := map[int][]string{}
	for _, p := range rep.Problems {
		fields[p.Row] = append(fields[p.Row], p.Field)
	}
	slices.Sort(fields[3])
	want := map[int][]string{
		3: {"birth_year", "email", "first_name", "gender", "id", "mobile_phone"},
		4: {"birth_date"},
	}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields at fault by row = %v, want %v", fields, want)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(errs.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[1][0] != "3" || recs[2][0] != "4" {
		t.Fatalf("error CSV = %q, want the header and rows 3 and 4", recs)
	}
	for _, p := range rep.Problems {
		if p.Row == 3 && !strings.Contains(recs[1][1], p.Reason) {
			t.Errorf("error CSV row 3 says %q, without %q", recs[1][1], p.Reason)
		}
	}
	if n := patientCount(t, d); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}
}

func TestImportReportBoundsProblems(t *testing.T) {
	d := importDesk(t, "GB")
	data := "first,last\n" + strings.Repeat(",NoFirst\n", 25)
	rep := importString(t, d, data, desk.ImportOptions{MaxProblems: 10})
	if rep.Invalid != 25 || len(rep.Problems) != 10 || rep.MoreProblems != 15 {
		t.Errorf("invalid %d, problems %d, more %d", rep.Invalid, len(rep.Problems), rep.MoreProblems)
	}
}

func TestPreviewImport(t *testing.T) {
	d := importDesk(t, "GB")
	pv, err := d.PreviewImport(context.Background(), bytes.NewReader(importerFixture(t, "messy.csv")), desk.ImportOptions{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(pv.Rows) != 3 || pv.Encoding != "UTF-8 with BOM" || pv.Columns[3].Field != "birth_date" {
		t.Fatalf("preview = %+v", pv)
	}
	if pv.Rows[0].Problem != nil || pv.Rows[0].Patient.Phone != "+447911123456" {
		t.Errorf("first preview row = %+v", pv.Rows[0])
	}
	if n := patientCount(t, d); n != 0 {
		t.Errorf("a preview wrote %d patients", n)
	}

	// Previewing the whole file marks the rows the import leaves out, a
	// repeated id among them, with the import's own reasons.
	pv, err = d.PreviewImport(context.Background(), bytes.NewReader(importerFixture(t, "messy.csv")), desk.ImportOptions{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	previewed := map[int]string{}
	for _, r := range pv.Rows {
		if r.Problem != nil {
			previewed[r.Row] = r.Problem.Field + ": " + r.Problem.Reason
		}
	}
	dry := importString(t, d, string(importerFixture(t, "messy.csv")), desk.ImportOptions{DryRun: true})
	reported := map[int]string{}
	for _, p := range dry.Problems {
		reported[p.Row] = p.Field + ": " + p.Reason
	}
	if len(reported) == 0 || !reflect.DeepEqual(previewed, reported) {
		t.Errorf("preview marks %v, the import reports %v", previewed, reported)
	}
}

// FuzzImport imports arbitrary bytes: whatever happens, the directory
// either takes exactly the rows the report says were added, or nothing.
func FuzzImport(f *testing.F) {
	f.Add([]byte("first,last,dob\nAnn,Lee,31/12/1980\n,Bo,\n"))
	f.Add([]byte("id;first;last\nx_1;A;B\nx_1;C;D\n"))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","name":[{"given":["A"],"family":"B"}]}}]}`))
	d := importDesk(f, "GB")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		before, err := d.CountPatients(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := d.Import(ctx, bytes.NewReader(data), desk.ImportOptions{})
		after, cerr := d.CountPatients(ctx)
		if cerr != nil {
			t.Fatal(cerr)
		}
		if err != nil {
			if after != before {
				t.Fatalf("failed import (%v) changed the count from %d to %d", err, before, after)
			}
			return
		}
		if after != before+rep.Added {
			t.Fatalf("count %d → %d, but the report says %d added", before, after, rep.Added)
		}
		if rep.Rows != rep.Added+rep.Updated+rep.Skipped+rep.Invalid {
			t.Fatalf("counts do not add up: %+v", countsOf(rep))
		}
	})
}

// BenchmarkImport imports 10,000 generated rows into a new directory per
// iteration (the ptdeskbench import section measures 100,000 and more,
// with peak memory and the sqlite3 baseline).
func BenchmarkImport(b *testing.B) {
	data := generatedCSV(10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		b.StopTimer()
		d := importDesk(b, "GB")
		b.StartTimer()
		rep, err := d.Import(context.Background(), strings.NewReader(data), desk.ImportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Added != 10000 {
			b.Fatalf("report %+v", countsOf(rep))
		}
	}
}
