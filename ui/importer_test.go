package ui

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// nopWriteCloser collects what a save dialog would write.
type nopWriteCloser struct{ bytes.Buffer }

func (*nopWriteCloser) Close() error { return nil }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportWizardPreviewMappingDryRunAndImport(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	// Semicolons, a header the importer does not know ("Rufname"), and one
	// row without a last name.
	path := writeFile(t, "clinic.csv", "Client no;Rufname;Surname;DOB\n"+
		"P-1;Ann;Lee;03/04/1980\n"+
		"P-2;Bob;;1975\n"+
		"P-3;Cy;Dunn;1990\n")
	w := newImportWizard(h.app)
	h.app.extras().importer = w
	w.load(storage.NewFileURI(path))

	// No first name column: the wizard asks for the mapping.
	if !strings.Contains(w.detected.Text, "no first_name column") || w.mappingEntry == nil {
		t.Fatalf("detected: %q", w.detected.Text)
	}
	w.mappingEntry.SetText("Rufname=-")
	w.onTypedMapping()
	if !strings.Contains(w.detected.Text, "no first_name column") {
		t.Fatalf("detected: %q", w.detected.Text)
	}
	w.mappingEntry.SetText("Rufname=first_name")
	w.onTypedMapping()
	if !strings.Contains(w.detected.Text, "separated by semicolon") || !strings.Contains(w.detected.Text, "encoding:") {
		t.Fatalf("detected: %q", w.detected.Text)
	}
	if rows, cols := w.tableSize(); rows != 4 || cols != 5 {
		t.Fatalf("preview table %dx%d", rows, cols)
	}
	if got := w.cellText(widgetCell(2, 0)); !strings.Contains(got, "Last name") {
		t.Fatalf("row 2's problem: %q", got)
	}
	w.onMappingChanged("Client no", notImported)
	if !strings.Contains(w.detected.Text, "Not imported: Client no") {
		t.Fatalf("the left-out column is not reported: %q", w.detected.Text)
	}
	w.onMappingChanged("Client no", "id")
	if !strings.Contains(w.dryRun.Text, "2 added") || !strings.Contains(w.dryRun.Text, "1 invalid") {
		t.Fatalf("dry run after mapping: %q", w.dryRun.Text)
	}
	if n, _ := h.desk.CountPatients(h.ctx); n != 0 {
		t.Fatalf("the dry run wrote %d patients", n)
	}
	if w.importBtn.Disabled() {
		t.Fatal("Import is disabled after a dry run")
	}

	test.Tap(w.importBtn)
	if !strings.Contains(w.summary.Text, "Imported 3 rows: 2 added") {
		t.Fatalf("summary: %q", w.summary.Text)
	}
	if !strings.Contains(w.problems.Text, "Row 3") {
		t.Fatalf("problems: %q", w.problems.Text)
	}
	if n, _ := h.desk.CountPatients(h.ctx); n != 2 {
		t.Fatalf("imported %d patients, want 2", n)
	}
	if !w.saveBtn.Visible() {
		t.Fatal("no Save rejected rows… after rejected rows")
	}
	var saved nopWriteCloser
	w.saveRejected(&saved)
	if !strings.Contains(saved.String(), "Bob") || strings.Contains(saved.String(), "Ann") {
		t.Fatalf("rejected rows file: %q", saved.String())
	}
	// The imported patients are found at once.
	if h.app.status.Text != w.summary.Text {
		t.Fatalf("status %q", h.app.status.Text)
	}
	ps, err := h.desk.Search(h.ctx, "ann", 10)
	if err != nil || len(ps) != 1 || ps[0].ID != "P-1" {
		t.Fatalf("search after import: %v %v", ps, err)
	}
}

func TestImportWizardRefusesUnreadableFile(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	w := newImportWizard(h.app)
	w.load(storage.NewFileURI(filepath.Join(t.TempDir(), "missing.csv")))
	if !strings.Contains(w.detected.Text, "Could not read missing.csv") {
		t.Fatalf("detected: %q", w.detected.Text)
	}
	if !w.importBtn.Disabled() {
		t.Fatal("Import is enabled for a file that cannot be read")
	}
}

func TestImportCancelledChangesNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	path := writeFile(t, "a.csv", "id,first name,last name,birth year\nP-1,Ann,Lee,1980\n")
	w := newImportWizard(h.app)
	w.load(storage.NewFileURI(path))
	// Cancel from the first progress report: the import stops with
	// nothing written.
	w.app.opts.Background = func(f func()) {
		w.onCancel()
		f()
	}
	w.onImport()
	if !strings.Contains(w.summary.Text, "cancelled") {
		t.Fatalf("summary: %q", w.summary.Text)
	}
	if n, _ := h.desk.CountPatients(h.ctx); n != 0 {
		t.Fatalf("a cancelled import wrote %d patients", n)
	}
}

func TestExportWritesTheDirectory(t *testing.T) {
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.patient("Jane", "Smith", 1980)
	})
	for _, format := range []string{"csv", "fhir"} {
		var out nopWriteCloser
		h.app.export(&out, format)
		if !strings.Contains(out.String(), "Smith") {
			t.Fatalf("%s export: %q", format, out.String())
		}
		if !strings.Contains(h.app.status.Text, "Exported") {
			t.Fatalf("status %q", h.app.status.Text)
		}
	}
	if got := exportFormatOf(exportLabel("fhir")); got != "fhir" {
		t.Fatalf("format of its label: %q", got)
	}
}

func TestImportButtonOpensWizard(t *testing.T) {
	// Without an OnImport of its own the app opens the wizard.
	h := newHarness(t, harnessOptions{}, nil)
	_ = h
	a, err := New(h.ctx, test.NewTempApp(t), h.desk, Options{Background: func(f func()) { f() }})
	if err != nil {
		t.Fatal(err)
	}
	a.opts.OnImport()
	if a.extras().importer == nil || !a.extras().importer.win.Content().Visible() {
		t.Fatal("Import… opened no wizard")
	}
	items := a.win.MainMenu().Items[0].Items
	var labels []string
	for _, it := range items {
		labels = append(labels, it.Label)
	}
	if strings.Join(labels, "|") != "Import…|Export…||Inbox" {
		t.Fatalf("File menu: %q", labels)
	}
}

func widgetCell(row, col int) widget.TableCellID { return widget.TableCellID{Row: row, Col: col} }
