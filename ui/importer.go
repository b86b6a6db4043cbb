package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// previewRows is how many rows the import wizard shows.
const previewRows = 8

// importFields are the fields a column can fill, in the mapping step;
// notImported leaves the column out.
var importFields = []string{notImported, "id", "first_name", "last_name", "birth_date", "birth_year", "gender", "email", "mobile_phone", "diagnosis_code"}

const notImported = "(not imported)"

// importWizard brings a practice system's export into the directory: choose
// a file, see the first rows with the detected mapping and encoding, change
// the mapping, see what a dry run would do, import with progress and
// Cancel, then the summary with the rejected rows to save.
type importWizard struct {
	app *App
	win fyne.Window

	uri     fyne.URI
	mapping map[string]string // header → field, as the user set it
	preview *desk.ImportPreview
	report  *desk.ImportReport
	errors  bytes.Buffer // the rejected rows of the last import
	cancel  context.CancelFunc

	file         *widget.Label
	mappingEntry *widget.Entry
	detected     *widget.Label
	mapBox       *fyne.Container
	table        *widget.Table
	dryRun       *widget.Label
	progress     *widget.ProgressBar
	summary      *widget.Label
	problems     *widget.Label
	importBtn    *widget.Button
	cancelBtn    *widget.Button
	saveBtn      *widget.Button
}

// showImport opens the import wizard and asks for a file.
func (a *App) showImport() {
	x := a.extras()
	if x.importer == nil {
		x.importer = newImportWizard(a)
	}
	x.importer.win.Show()
	x.importer.chooseFile()
}

func newImportWizard(a *App) *importWizard {
	w := &importWizard{app: a}
	w.win = a.fyne.NewWindow("Import patients — PT Desk")
	w.win.SetIcon(a.win.Icon())
	w.win.SetContent(w.buildUI())
	w.win.Resize(fyne.NewSize(960, 640))
	w.win.SetCloseIntercept(w.close)
	return w
}

func (w *importWizard) buildUI() fyne.CanvasObject {
	w.file = &widget.Label{Text: "No file chosen yet.", Truncation: fyne.TextTruncateEllipsis}
	w.detected = &widget.Label{Wrapping: fyne.TextWrapWord}
	w.mapBox = container.NewGridWithColumns(4)
	w.table = &widget.Table{
		Length:     w.tableSize,
		CreateCell: func() fyne.CanvasObject { return &widget.Label{Truncation: fyne.TextTruncateEllipsis} },
		UpdateCell: w.updateCell,
	}
	w.dryRun = &widget.Label{Wrapping: fyne.TextWrapWord}
	w.progress = &widget.ProgressBar{}
	w.progress.Hide()
	w.summary = &widget.Label{Wrapping: fyne.TextWrapWord, TextStyle: fyne.TextStyle{Bold: true}}
	w.problems = &widget.Label{Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameCaptionText}
	choose := &widget.Button{Text: "Choose file…", Icon: theme.FolderOpenIcon(), OnTapped: w.chooseFile}
	w.importBtn = &widget.Button{Text: "Import", Icon: theme.UploadIcon(), Importance: widget.HighImportance, OnTapped: w.onImport}
	w.cancelBtn = &widget.Button{Text: "Cancel", Icon: theme.CancelIcon(), OnTapped: w.onCancel}
	w.saveBtn = &widget.Button{Text: "Save rejected rows…", Icon: theme.DocumentSaveIcon(), OnTapped: w.onSaveRejected}
	w.importBtn.Disable()
	w.cancelBtn.Hide()
	w.saveBtn.Hide()
	closeBtn := &widget.Button{Text: "Close", OnTapped: w.close}

	bold := func(t string) *widget.Label { return &widget.Label{Text: t, TextStyle: fyne.TextStyle{Bold: true}} }
	top := container.NewVBox(
		container.NewBorder(nil, nil, nil, choose, w.file),
		w.detected,
		bold("Columns: change what a column fills if it was guessed wrong"),
		w.mapBox,
		bold("First rows"),
	)
	bottom := container.NewVBox(
		w.dryRun, w.progress, w.summary, w.problems,
		container.NewHBox(w.saveBtn, layout.NewSpacer(), closeBtn, w.cancelBtn, w.importBtn),
	)
	return container.NewPadded(container.NewBorder(top, bottom, nil, nil, w.table))
}

// chooseFile asks for the export to import.
func (w *importWizard) chooseFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			w.app.showError(err, w.win)
			return
		}
		if r == nil {
			return
		}
		r.Close()
		w.load(r.URI())
	}, w.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv", ".txt", ".tsv", ".json", ".ndjson"}))
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}

// load shows a new file: its preview with the automatic mapping.
func (w *importWizard) load(u fyne.URI) {
	w.uri = u
	w.mapping = nil
	w.report = nil
	w.errors.Reset()
	w.file.SetText(u.Name())
	setNote(w.summary, "", widget.MediumImportance)
	setNote(w.problems, "", widget.MediumImportance)
	w.saveBtn.Hide()
	w.refreshPreview()
}

// options are the import options the user chose so far.
func (w *importWizard) options() desk.ImportOptions {
	o := desk.ImportOptions{}
	if len(w.mapping) > 0 {
		o.Mapping = map[string]string{}
		for h, f := range w.mapping {
			if f == notImported {
				f = "-"
			}
			o.Mapping[h] = f
		}
	}
	return o
}

// open reads the chosen file again (each step reads it from the start).
func (w *importWizard) open() (io.ReadCloser, int64, error) {
	r, err := storage.Reader(w.uri)
	if err != nil {
		return nil, 0, core.Errorf(core.EINVALID, "file", "Could not read %s (%v).", w.uri.Name(), err)
	}
	var size int64
	if w.uri.Scheme() == "file" {
		if fi, err := os.Stat(w.uri.Path()); err == nil {
			size = fi.Size()
		}
	}
	return r, size, nil
}

// refreshPreview reads the first rows and then a dry run of the whole file,
// off the UI thread.
func (w *importWizard) refreshPreview() {
	a := w.app
	d, ctx, opts := a.desk, a.ctx, w.options()
	w.importBtn.Disable()
	w.dryRun.SetText("Reading the file…")
	a.goBackground(func() {
		pv, err := w.readPreview(ctx, d, opts)
		fyne.Do(func() { w.showPreview(pv, err) })
		if err != nil {
			return
		}
		rep, err := w.runImport(ctx, d, opts, true, nil)
		fyne.Do(func() { w.showDryRun(rep, err) })
	})
}

func (w *importWizard) readPreview(ctx context.Context, d *desk.Desk, opts desk.ImportOptions) (*desk.ImportPreview, error) {
	r, _, err := w.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return d.PreviewImport(ctx, r, opts, previewRows)
}

// runImport imports the file (or dry-runs it), the rejected rows going to
// errs.
func (w *importWizard) runImport(ctx context.Context, d *desk.Desk, opts desk.ImportOptions, dry bool, progress func(desk.ImportProgress)) (*desk.ImportReport, error) {
	r, size, err := w.open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	opts.DryRun, opts.Size, opts.Progress = dry, size, progress
	return d.Import(ctx, r, opts)
}

func (w *importWizard) showPreview(pv *desk.ImportPreview, err error) {
	if err != nil {
		w.preview = nil
		w.detected.SetText(core.ErrorMessage(err))
		w.dryRun.SetText("")
		w.mapBox.RemoveAll()
		if core.ErrorField(err) == "mapping" {
			w.mapBox.Add(w.typedMapping())
		}
		w.table.Refresh()
		return
	}
	w.preview = pv
	w.detected.SetText(detectedText(pv))
	w.buildMapping()
	w.table.Refresh()
	for c := range pv.Header {
		w.table.SetColumnWidth(c+1, 140)
	}
	w.table.SetColumnWidth(0, 200)
}

// detectedText says what the wizard found in the file.
func detectedText(pv *desk.ImportPreview) string {
	parts := []string{"Format: " + strings.ToUpper(pv.Format), "encoding: " + pv.Encoding}
	if pv.Delimiter != "" {
		parts = append(parts, "separated by "+pv.Delimiter)
	}
	if pv.DateOrder != "" {
		parts = append(parts, "dates read as "+pv.DateOrder)
	}
	s := strings.Join(parts, ", ") + "."
	left := append([]string(nil), pv.Ignored...)
	for _, c := range pv.Columns {
		if c.Field == "" && !slices.Contains(left, c.Header) {
			left = append(left, c.Header)
		}
	}
	if len(left) > 0 {
		s += " Not imported: " + strings.Join(left, ", ") + "."
	}
	return s
}

// typedMapping lets the user name the columns when the file's headers say
// too little to preview it (no first name column, for example), in the
// command line's form: "Given=first_name,Family=last_name".
func (w *importWizard) typedMapping() fyne.CanvasObject {
	e := &widget.Entry{PlaceHolder: "Header=field, e.g. Given=first_name,Family=last_name"}
	w.mappingEntry = e
	apply := &widget.Button{Text: "Apply", OnTapped: w.onTypedMapping}
	e.OnSubmitted = func(string) { w.onTypedMapping() }
	return container.NewBorder(nil, nil, nil, apply, e)
}

func (w *importWizard) onTypedMapping() {
	m, err := desk.ParseImportMapping(w.mappingEntry.Text)
	if err != nil {
		w.detected.SetText(core.ErrorMessage(err))
		return
	}
	if w.mapping == nil {
		w.mapping = map[string]string{}
	}
	for h, f := range m {
		if f == "" {
			f = notImported
		}
		w.mapping[h] = f
	}
	w.refreshPreview()
}

// buildMapping shows a field picker for every column of a CSV file.
func (w *importWizard) buildMapping() {
	w.mapBox.RemoveAll()
	pv := w.preview
	if pv.Format != "csv" {
		w.mapBox.Add(&widget.Label{Text: "FHIR resources are read field by field; there is nothing to map."})
		return
	}
	for _, col := range pv.Columns {
		header := col.Header
		field := col.Field
		if field == "" {
			field = notImported
		}
		sel := &widget.Select{Options: importFields, Selected: field}
		sel.OnChanged = func(f string) { w.onMappingChanged(header, f) }
		w.mapBox.Add(container.NewBorder(nil, nil, &widget.Label{Text: header, TextStyle: fyne.TextStyle{Bold: true}}, nil, sel))
	}
}

// onMappingChanged takes the user's choice for one column and previews
// again. The whole mapping is sent, so that the other columns stay as
// shown.
func (w *importWizard) onMappingChanged(header, field string) {
	if w.preview == nil {
		return
	}
	m := map[string]string{}
	for _, c := range w.preview.Columns {
		f := c.Field
		if f == "" {
			f = notImported
		}
		m[c.Header] = f
	}
	for h, f := range w.mapping {
		m[h] = f
	}
	m[header] = field
	w.mapping = m
	w.refreshPreview()
}

// tableSize is the preview's rows (a header row first) and columns (the
// row's outcome first, then the file's columns).
func (w *importWizard) tableSize() (int, int) {
	if w.preview == nil {
		return 0, 0
	}
	return len(w.preview.Rows) + 1, len(w.preview.Header) + 1
}

func (w *importWizard) updateCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	l.TextStyle = fyne.TextStyle{Bold: id.Row == 0}
	l.Importance = widget.MediumImportance
	l.SetText(w.cellText(id))
	if id.Row > 0 && id.Col == 0 && w.preview.Rows[id.Row-1].Problem != nil {
		l.Importance = widget.DangerImportance
		l.Refresh()
	}
}

// cellText is what a preview cell shows: the headers, each row's outcome
// (OK or the problem) and its values as read.
func (w *importWizard) cellText(id widget.TableCellID) string {
	pv := w.preview
	if pv == nil {
		return ""
	}
	if id.Row == 0 {
		if id.Col == 0 {
			return "Row"
		}
		return pv.Header[id.Col-1]
	}
	row := pv.Rows[id.Row-1]
	if id.Col == 0 {
		if row.Problem != nil {
			return fmt.Sprintf("%d: %s", row.Row, row.Problem.Reason)
		}
		return fmt.Sprintf("%d: OK", row.Row)
	}
	if id.Col-1 < len(row.Raw) {
		return row.Raw[id.Col-1]
	}
	return ""
}

func (w *importWizard) showDryRun(rep *desk.ImportReport, err error) {
	if err != nil {
		w.dryRun.SetText(core.ErrorMessage(err))
		return
	}
	w.dryRun.SetText(rep.Summary())
	w.importBtn.Enable()
}

// onImport imports the file with a progress bar and Cancel.
func (w *importWizard) onImport() {
	a := w.app
	ctx, cancel := context.WithCancel(a.ctx)
	w.cancel = cancel
	d, opts := a.desk, w.options()
	w.errors.Reset()
	opts.Errors = &w.errors
	w.importBtn.Disable()
	w.cancelBtn.Show()
	w.progress.SetValue(0)
	w.progress.Show()
	w.dryRun.SetText("Importing…")
	a.goBackground(func() {
		rep, err := w.runImport(ctx, d, opts, false, func(p desk.ImportProgress) {
			if pct := p.Percent(); pct >= 0 {
				fyne.Do(func() { w.progress.SetValue(pct / 100) })
			}
		})
		cancelled := ctx.Err() != nil
		cancel()
		fyne.Do(func() { w.finished(rep, err, cancelled) })
	})
}

func (w *importWizard) onCancel() {
	if w.cancel != nil {
		w.cancel()
	}
}

// finished shows the summary, and offers the rejected rows when there are
// any.
func (w *importWizard) finished(rep *desk.ImportReport, err error, cancelled bool) {
	a := w.app
	w.cancel = nil
	w.cancelBtn.Hide()
	w.progress.Hide()
	w.dryRun.SetText("")
	switch {
	case cancelled || errors.Is(err, context.Canceled):
		setNote(w.summary, "Import cancelled: nothing was changed.", widget.WarningImportance)
		w.importBtn.Enable()
		return
	case err != nil:
		setNote(w.summary, "Nothing was imported: "+core.ErrorMessage(err), widget.DangerImportance)
		w.importBtn.Enable()
		return
	}
	w.report = rep
	setNote(w.summary, rep.Summary(), widget.SuccessImportance)
	setNote(w.problems, problemsText(rep), widget.DangerImportance)
	if w.errors.Len() > 0 {
		w.saveBtn.Show()
	}
	a.status.SetText(rep.Summary())
	a.search.refresh()
	a.refreshTray()
}

// problemsText lists the first problems of the rejected rows.
func problemsText(rep *desk.ImportReport) string {
	const shown = 5
	var lines []string
	for i, p := range rep.Problems {
		if i == shown {
			break
		}
		line := fmt.Sprintf("Row %d: %s", p.Row, p.Reason)
		lines = append(lines, line)
	}
	if len(rep.Problems) > shown || rep.MoreProblems > 0 {
		lines = append(lines, fmt.Sprintf("…%d rejected rows in all; save them to see every problem.", rep.Skipped+rep.Invalid))
	}
	return strings.Join(lines, "\n")
}

// onSaveRejected saves the rejected rows as a CSV to fix and import again.
func (w *importWizard) onSaveRejected() {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			w.app.showError(err, w.win)
			return
		}
		if wc == nil {
			return
		}
		w.saveRejected(wc)
	}, w.win)
	d.SetFileName("rejected-" + strings.TrimSuffix(w.uri.Name(), w.uri.Extension()) + ".csv")
	d.Show()
}

// saveRejected writes the rejected rows to wc.
func (w *importWizard) saveRejected(wc io.WriteCloser) {
	_, err := wc.Write(w.errors.Bytes())
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.app.showError(core.Errorf(core.EINTERNAL, "file", "Could not save the rejected rows (%v).", err), w.win)
		return
	}
	setNote(w.problems, "Saved the rejected rows. Fix them in a spreadsheet and import that file.", widget.SuccessImportance)
}

// close hides the wizard, cancelling an import in progress (which then
// changes nothing).
func (w *importWizard) close() {
	w.onCancel()
	w.win.Hide()
}

// showExport asks for a format and a file, and writes the whole directory.
func (a *App) showExport() {
	format := &widget.RadioGroup{Options: exportFormatLabels(), Horizontal: false}
	format.SetSelected(format.Options[0])
	d := dialog.NewCustomConfirm("Export patients", "Choose file…", "Cancel",
		container.NewVBox(&widget.Label{Text: "Every patient, archived ones too, in a file any system can read.", Wrapping: fyne.TextWrapWord}, format),
		func(ok bool) {
			if ok {
				a.chooseExportFile(exportFormatOf(format.Selected))
			}
		}, a.win)
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
}

// exportFormatLabels name the export formats for people.
func exportFormatLabels() []string {
	var out []string
	for _, f := range desk.ExportFormats() {
		out = append(out, exportLabel(f))
	}
	return out
}

func exportLabel(f string) string {
	switch f {
	case "csv":
		return "CSV (spreadsheets, PT Desk, most practice systems)"
	case "fhir":
		return "FHIR NDJSON (health systems)"
	}
	return f
}

func exportFormatOf(label string) string {
	for _, f := range desk.ExportFormats() {
		if exportLabel(f) == label {
			return f
		}
	}
	return "csv"
}

func (a *App) chooseExportFile(format string) {
	d := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			a.showError(err, a.win)
			return
		}
		if wc != nil {
			a.export(wc, format)
		}
	}, a.win)
	ext := map[string]string{"csv": ".csv", "fhir": ".ndjson"}[format]
	d.SetFileName("patients" + ext)
	d.Show()
}

// export writes the directory to wc off the UI thread.
func (a *App) export(wc io.WriteCloser, format string) {
	d, ctx := a.desk, a.ctx
	a.status.SetText("Exporting…")
	a.goBackground(func() {
		err := d.Export(ctx, wc, format)
		if cerr := wc.Close(); err == nil && cerr != nil {
			err = core.Errorf(core.EINTERNAL, "file", "Could not finish writing the export (%v).", cerr)
		}
		fyne.Do(func() {
			if err != nil {
				a.status.SetText("")
				a.showError(err, a.win)
				return
			}
			a.status.SetText("Exported every patient (" + strings.ToUpper(format) + ").")
		})
	})
}

// mainMenu is the window's menu: File (Import…, Export…, Inbox) beside the
// toolbar's buttons.
func (a *App) mainMenu() *fyne.MainMenu {
	file := fyne.NewMenu("File",
		fyne.NewMenuItem("Import…", a.opts.OnImport),
		fyne.NewMenuItem("Export…", a.showExport),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Inbox", a.showInbox),
	)
	return fyne.NewMainMenu(file)
}

// inboxButton is the toolbar's way to the program Inbox.
func (a *App) inboxButton() fyne.CanvasObject {
	return &widget.Button{Text: "Inbox", Icon: theme.MailComposeIcon(), OnTapped: a.showInbox}
}

// showExtraScreen opens the screens of programs and import by name, for
// ShowScreen: "import:PATH" (the wizard on a file), "inbox" and
// "programs" (the selected patient's Programs tab).
func (a *App) showExtraScreen(screen, arg, name string) error {
	switch screen {
	case "import":
		x := a.extras()
		if x.importer == nil {
			x.importer = newImportWizard(a)
		}
		x.importer.win.Show()
		if arg != "" {
			x.importer.load(storage.NewFileURI(arg))
		}
	case "inbox":
		a.showInbox()
	case "programs":
		a.search.editSelected()
		if a.form != nil {
			if tabs, ok := a.form.win.Content().(*container.AppTabs); ok {
				tabs.SelectIndex(1)
			}
		}
	default:
		return core.Errorf(core.EINVALID, "screen", "Unknown screen %q.", name)
	}
	return nil
}
