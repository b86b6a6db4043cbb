package desk_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// exportSample fills a directory with patients that stress a CSV: commas,
// quotes, a line-break-free but accented name, an id with an underscore
// (valid for PT Desk, not as a FHIR resource id), no birth year, and an
// archived patient.
func exportSample(t *testing.T, d *desk.Desk) []*core.Patient {
	t.Helper()
	ctx := context.Background()
	in := []core.Patient{
		{ID: "C_1", FirstName: "Anne \"Nan\"", LastName: "O'Brien, Jr", BirthYear: 1980, Gender: core.GenderFemale,
			Email: "anne@example.org", Phone: "+44 7911 123456", DiagnosisCode: "M54.5"},
		{FirstName: "José", LastName: "Ødegaard", Gender: core.GenderMale},
		{FirstName: "Sam", LastName: "Lee", BirthYear: 2001, Gender: core.GenderOther, Phone: "07911 123457"},
		{ID: "1042", FirstName: "Old", LastName: "Patient", BirthYear: 1933},
	}
	var out []*core.Patient
	for _, p := range in {
		got, _, err := d.AddPatient(ctx, p)
		if err != nil {
			t.Fatalf("add %s: %v", p.FullName(), err)
		}
		out = append(out, got)
	}
	if err := d.ArchivePatient(ctx, "1042"); err != nil {
		t.Fatal(err)
	}
	return out
}

// directory lists every patient's stored fields, archived included.
func directory(t *testing.T, d *desk.Desk) map[string]core.Patient {
	t.Helper()
	var buf bytes.Buffer
	if err := d.Export(context.Background(), &buf, "csv"); err != nil {
		t.Fatal(err)
	}
	m := map[string]core.Patient{}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		p := mustPatient(t, d, r[0])
		m[p.ID] = core.Patient{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, BirthYear: p.BirthYear,
			Gender: p.Gender, Email: p.Email, Phone: p.Phone, DiagnosisCode: p.DiagnosisCode, Archived: p.Archived}
	}
	return m
}

func TestExportCSV(t *testing.T) {
	d := importDesk(t, "GB")
	exportSample(t, d)
	var buf bytes.Buffer
	if err := d.Export(context.Background(), &buf, "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v", err)
	}
	if !reflect.DeepEqual(recs[0], desk.ExportCSVHeader()) {
		t.Errorf("header = %q", recs[0])
	}
	if len(recs) != 5 {
		t.Fatalf("%d records, want header + 4 (archived included)", len(recs))
	}
	byID := map[string][]string{}
	for _, r := range recs[1:] {
		byID[r[0]] = r
	}
	if got, want := byID["C_1"], []string{"C_1", "Anne \"Nan\"", "O'Brien, Jr", "1980", "female", "anne@example.org", "+447911123456", "M54.5", "false"}; !reflect.DeepEqual(got, want) {
		t.Errorf("C_1 = %q\nwant %q", got, want)
	}
	if got := byID["1042"][8]; got != "true" {
		t.Errorf("archived column of 1042 = %q", got)
	}
	if bytes.HasPrefix(buf.Bytes(), []byte("\uFEFF")) {
		t.Errorf("the export should have no byte order mark")
	}
}

func TestExportFHIR(t *testing.T) {
	d := importDesk(t, "GB")
	exportSample(t, d)
	var buf bytes.Buffer
	if err := d.Export(context.Background(), &buf, "fhir"); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	var resources []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		resources = append(resources, m)
	}
	if len(resources) != 4 {
		t.Fatalf("%d resources, want 4", len(resources))
	}
	for _, r := range resources {
		if r["resourceType"] != "Patient" {
			t.Errorf("resourceType = %v", r["resourceType"])
		}
		ids := r["identifier"].([]any)
		idn := ids[0].(map[string]any)
		if idn["system"] != "urn:ptdesk:patient-id" {
			t.Errorf("identifier system = %v", idn["system"])
		}
		switch idn["value"] {
		case "C_1":
			if _, has := r["id"]; has {
				t.Errorf("C_1 is not a valid FHIR id and must not be the resource id")
			}
			if r["birthDate"] != "1980" || r["gender"] != "female" {
				t.Errorf("C_1 = %v", r)
			}
		case "1042":
			if r["active"] != false || r["id"] != "1042" {
				t.Errorf("archived 1042 = %v", r)
			}
		}
	}
}

func TestExportUnknownFormat(t *testing.T) {
	d := importDesk(t, "GB")
	if err := d.Export(context.Background(), &bytes.Buffer{}, "xml"); core.ErrorField(err) != "format" {
		t.Errorf("err = %v", err)
	}
}

// An export imports into an empty directory as the same patients with the
// same ids, in both formats. An import never archives, so the archived
// patient comes back active (documented on ExportCSVHeader).
func TestExportImportRoundTrip(t *testing.T) {
	for _, format := range desk.ExportFormats() {
		t.Run(format, func(t *testing.T) {
			src := importDesk(t, "GB")
			exportSample(t, src)
			want := directory(t, src)
			var buf bytes.Buffer
			if err := src.Export(context.Background(), &buf, format); err != nil {
				t.Fatal(err)
			}
			exported := buf.String()

			dst := importDesk(t, "US") // another region: the numbers are E.164 already
			rep := importString(t, dst, exported, desk.ImportOptions{})
			if got, want := countsOf(rep), (counts{Rows: 4, Added: 4}); got != want {
				t.Fatalf("counts = %+v, want %+v (%+v)", got, want, rep.Problems)
			}
			got := directory(t, dst)
			archived := want["1042"]
			archived.Archived = false
			want["1042"] = archived
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", sorted(got), sorted(want))
			}

			// Into the same directory: every row updates its own patient.
			rep = importString(t, src, exported, desk.ImportOptions{})
			if got, want := countsOf(rep), (counts{Rows: 4, Updated: 4}); got != want {
				t.Errorf("same directory counts = %+v, want %+v", got, want)
			}
			if n := patientCount(t, src); n != 4 {
				t.Errorf("count = %d after re-import, want 4", n)
			}
			if format == "csv" && !reflect.DeepEqual(rep.Ignored, []string{"archived"}) {
				t.Errorf("ignored = %q, want the archived column", rep.Ignored)
			}
		})
	}
}

func sorted(m map[string]core.Patient) []string {
	var out []string
	for _, p := range m {
		b, _ := json.Marshal(struct {
			ID, First, Last, Email, Phone, Dx string
			Year                              int
			Gender                            core.Gender
			Archived                          bool
		}{p.ID, p.FirstName, p.LastName, p.Email, p.Phone, p.DiagnosisCode, p.BirthYear, p.Gender, p.Archived})
		out = append(out, string(b))
	}
	sort.Strings(out)
	return []string{strings.Join(out, "\n")}
}
