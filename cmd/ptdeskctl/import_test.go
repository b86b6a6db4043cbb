package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportExportRoundTrip imports a messy export, checks the summary and
// the error file, fixes the rejected row, imports it, and round-trips the
// whole directory through export into a fresh one.
func TestImportExportRoundTrip(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "export.csv")
	csv := "\ufeffPatient No;Forename;Surname;DOB;Sex;E-mail\r\n" +
		"P-1;José;Núñez;31/12/1980;M;jose@example.org\r\n" +
		"P-2;;Nameless;01/02/1990;F;\r\n" +
		"P-3;Zoë;Ødegaard;1975-06-01;F;zoe@example.org\r\n"
	if err := os.WriteFile(src, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := filepath.Join(dir, "rejected.csv")

	dry := e.run(t, "", "patients", "import", src, "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, "nothing written") || !strings.Contains(dry.stdout, "2 added") {
		t.Fatalf("dry run: exit %d, stdout %q, stderr %q", dry.code, dry.stdout, dry.stderr)
	}
	if out := e.ok(t, "patients", "search", "--json", "nunez"); out != "[]" {
		t.Fatalf("a dry run wrote patients: %s", out)
	}

	r := e.run(t, "", "patients", "import", src, "--errors", errs)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "Imported 3 rows: 2 added, 0 updated, 0 skipped as possible duplicates, 1 invalid." {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "semicolon") || !strings.Contains(r.stderr, "first_name") {
		t.Fatalf("import should report the delimiter and the invalid field: %q", r.stderr)
	}
	rejected, err := os.ReadFile(errs)
	if err != nil || !strings.Contains(string(rejected), "Nameless") || strings.Contains(string(rejected), "Núñez") {
		t.Fatalf("error file: %v\n%s", err, rejected)
	}
	var p struct {
		BirthYear int    `json:"birth_year"`
		Gender    string `json:"gender"`
	}
	if err := json.Unmarshal([]byte(e.ok(t, "patients", "show", "--json", "P-1")), &p); err != nil || p.BirthYear != 1980 || p.Gender != "male" {
		t.Fatalf("P-1 imported as %+v (%v)", p, err)
	}

	// Fix the rejected row and import the error file itself.
	fixed := strings.Replace(string(rejected), ",,Nameless,", ",Nadia,Nameless,", 1)
	if err := os.WriteFile(errs, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := e.ok(t, "patients", "import", errs); !strings.Contains(out, "1 added") {
		t.Fatalf("re-import of the fixed rows: %s", out)
	}

	// Export, import into a fresh directory, export again: the same bytes.
	first := filepath.Join(dir, "first.csv")
	e.ok(t, "patients", "export", "--out", first)
	fresh := newEnv(t)
	if out := fresh.ok(t, "patients", "import", first); !strings.Contains(out, "3 added") {
		t.Fatalf("import of the export: %s", out)
	}
	second := filepath.Join(dir, "second.csv")
	fresh.ok(t, "patients", "export", "--out", second)
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if string(a) != string(b) || !strings.Contains(string(a), "Ødegaard") {
		t.Fatalf("round trip changed the export:\n%s\n---\n%s", a, b)
	}
	if fhir := e.ok(t, "patients", "export", "--format", "fhir"); strings.Count(fhir, `"resourceType":"Patient"`) != 3 {
		t.Fatalf("FHIR export:\n%s", fhir)
	}
}
