package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// live is what the app runs while it is open besides its windows: the
// program listener and worker, the watch for new programs, and the feed of
// changes made by other desks. It also keeps the open views those refresh.
type live struct {
	cancel context.CancelFunc
	server *desk.ProgramsServer
	// listener is one line for the settings screen saying whether this
	// app receives program webhooks, and why not.
	listener string

	store    *storeSection
	keyDesks *widget.Label
	inbox    *inboxWindow
	importer *importWizard
	programs []*programsView
}

// extras returns the app's live state, creating it on first use.
func (a *App) extras() *live {
	if a.live == nil {
		a.live = &live{listener: "Program listener: not started."}
	}
	return a.live
}

// wireExtras connects the Import… buttons to the import wizard unless the
// caller chose another action. New calls it before building the window.
func (a *App) wireExtras() {
	if a.opts.OnImport == nil {
		a.opts.OnImport = a.showImport
	}
}

// StartLive starts, until ctx ends or the returned stop is called, what
// the app does in the background while open: receive program webhooks and
// file their PDFs (unless `ptdeskctl serve` or another app already serves
// this directory, or no webhook secret is set: then the settings screen
// says so), tell of arriving programs with a notification, and refresh
// search results, the tray, the Programs tabs and the Inbox when the
// directory changes. Call it once, after Start.
func (a *App) StartLive(ctx context.Context) (stop func()) {
	x := a.extras()
	ctx, cancel := context.WithCancel(ctx)
	x.cancel = cancel
	d := a.desk
	go func() {
		srv, err := d.StartPrograms(ctx, desk.ProgramsOptions{})
		line := listenerLine(srv, err)
		fyne.Do(func() {
			x.server = srv
			x.listener = line
			a.listenerChanged()
		})
	}()
	go a.watchPrograms(ctx)
	go a.followChanges(ctx)
	return func() {
		cancel()
		if x.server != nil {
			x.server.Close()
		}
	}
}

// listenerLine says in one line whether this app receives programs.
func listenerLine(srv *desk.ProgramsServer, err error) string {
	if err == nil {
		return "Program listener: running at " + srv.URL() + "."
	}
	switch core.ErrorField(err) {
	case "webhook-secret":
		return "Program listener: not running — no webhook secret set."
	case "serve", "addr":
		return "Program listener: not running here — " + core.ErrorMessage(err)
	}
	return "Program listener: not running — " + core.ErrorMessage(err)
}

// ListenerStatus is the line the settings screen shows about the program
// listener.
func (a *App) ListenerStatus() string { return a.extras().listener }

// programsView is the Programs tab of a patient: every program PDF filed
// with them, newest first, with Open PDF and Show in folder.
type programsView struct {
	app       *App
	patientID string
	items     []*desk.ProgramEntry
	list      *widget.List
	note      *widget.Label
	win       fyne.Window
}

// withProgramsTab puts a stored patient's details and their Programs in
// two tabs; a new patient (nil) has no programs, so details stays alone.
func (a *App) withProgramsTab(p *core.Patient, win fyne.Window, details fyne.CanvasObject) fyne.CanvasObject {
	if p == nil {
		return details
	}
	v := newProgramsView(a, p.ID, win)
	tabs := container.NewAppTabs(
		container.NewTabItemWithIcon("Details", theme.AccountIcon(), details),
		container.NewTabItemWithIcon("Programs", theme.DocumentIcon(), v.buildUI()),
	)
	tabs.OnSelected = func(t *container.TabItem) {
		if t.Text == "Programs" {
			v.reload()
		}
	}
	return tabs
}

func newProgramsView(a *App, patientID string, win fyne.Window) *programsView {
	v := &programsView{app: a, patientID: patientID, win: win}
	x := a.extras()
	// Views of closed windows are dropped here rather than on close: the
	// patient form keeps the window's close callback for itself.
	open := map[fyne.Window]bool{}
	for _, w := range a.fyne.Driver().AllWindows() {
		open[w] = true
	}
	kept := x.programs[:0]
	for _, o := range x.programs {
		if open[o.win] {
			kept = append(kept, o)
		}
	}
	x.programs = append(kept, v)
	return v
}

func (v *programsView) buildUI() fyne.CanvasObject {
	v.note = &widget.Label{Wrapping: fyne.TextWrapWord}
	v.list = &widget.List{
		Length:     func() int { return len(v.items) },
		CreateItem: newProgramRow,
		UpdateItem: v.updateRow,
	}
	head := container.NewVBox(v.note, programHeader())
	v.reload()
	return container.NewBorder(head, nil, nil, nil, v.list)
}

// reload reads the patient's programs off the UI thread.
func (v *programsView) reload() {
	a := v.app
	d, ctx, id := a.desk, a.ctx, v.patientID
	a.goBackground(func() {
		items, err := d.Programs(ctx, id)
		fyne.Do(func() { v.show(items, err) })
	})
}

func (v *programsView) show(items []*desk.ProgramEntry, err error) {
	if err != nil {
		v.note.SetText(core.ErrorMessage(err))
		return
	}
	v.items = items
	switch len(items) {
	case 0:
		v.note.SetText("No programs yet. When a practitioner assigns a program in Physitrack, its PDF is filed here.")
	default:
		v.note.SetText(fmt.Sprintf("%s filed with this patient, newest first.", plural(len(items), "program", "programs")))
	}
	v.list.Refresh()
}

// programHeader names the columns of the program rows.
func programHeader() fyne.CanvasObject {
	bold := func(t string) *widget.Label { return &widget.Label{Text: t, TextStyle: fyne.TextStyle{Bold: true}} }
	// The buttons' column is as wide as the rows' buttons, so the headings
	// line up with the cells.
	buttons := container.NewHBox(&widget.Button{Text: "Open PDF", Icon: theme.DocumentIcon()}, &widget.Button{Text: "Show in folder", Icon: theme.FolderOpenIcon()})
	spacer := container.NewGridWrap(buttons.MinSize(), layout.NewSpacer())
	return container.NewBorder(nil, nil, nil, spacer, container.New(&shareColumns{shares: programColumns}, bold("Program"), bold("Date"), bold("Practitioner"), bold("Updated")))
}

// programColumns are the shares of the row's text width: name, date,
// practitioner, updated.
var programColumns = []float32{0.34, 0.26, 0.26, 0.14}

type programRow struct {
	name, date, who, updated *widget.Label
	open, folder             *widget.Button
	box                      *fyne.Container
}

func newProgramRow() fyne.CanvasObject {
	r := &programRow{
		name:    &widget.Label{Truncation: fyne.TextTruncateEllipsis},
		date:    &widget.Label{},
		who:     &widget.Label{Truncation: fyne.TextTruncateEllipsis},
		updated: &widget.Label{},
		open:    &widget.Button{Text: "Open PDF", Icon: theme.DocumentIcon(), Importance: widget.HighImportance},
		folder:  &widget.Button{Text: "Show in folder", Icon: theme.FolderOpenIcon()},
	}
	cells := container.New(&shareColumns{shares: programColumns}, r.name, r.date, r.who, r.updated)
	r.box = container.NewBorder(nil, nil, nil, container.NewHBox(r.open, r.folder), cells)
	w := &programRowWidget{row: r}
	w.ExtendBaseWidget(w)
	return w
}

// programRowWidget lets the list find the row's parts again.
type programRowWidget struct {
	widget.BaseWidget
	row *programRow
}

func (w *programRowWidget) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(w.row.box)
}

func (v *programsView) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(v.items) {
		return
	}
	w := o.(*programRowWidget)
	p := v.items[id]
	r := w.row
	name := p.Name
	if p.Version > 1 {
		name = fmt.Sprintf("%s (version %d)", p.Name, p.Version)
	}
	r.name.SetText(name)
	r.date.SetText(programDate(p.Program))
	r.who.SetText(p.PractitionerName)
	if p.Updated {
		r.updated.SetText("Updated")
	} else {
		r.updated.SetText("")
	}
	programID := p.ID
	r.open.OnTapped = func() { v.app.openProgram(programID, v.win) }
	r.folder.OnTapped = func() { v.app.showProgramFolder(programID, v.win) }
}

// programDate is the program's date as Physitrack sent it, else the date
// it was assigned.
func programDate(p *core.Program) string {
	if p.Date != "" {
		return p.Date
	}
	if !p.CreatedAt.IsZero() {
		return p.CreatedAt.Local().Format(time.DateOnly)
	}
	return ""
}

// openProgram opens a program's PDF with the system's viewer.
func (a *App) openProgram(programID int64, w fyne.Window) {
	d, ctx := a.desk, a.ctx
	a.goBackground(func() {
		err := d.OpenProgram(ctx, programID)
		fyne.Do(func() { a.reportProgramAction(err, "Opened the program PDF.", w) })
	})
}

// showProgramFolder shows the folder of a program's PDF.
func (a *App) showProgramFolder(programID int64, w fyne.Window) {
	d, ctx := a.desk, a.ctx
	a.goBackground(func() {
		err := d.ShowProgramFolder(ctx, programID)
		fyne.Do(func() { a.reportProgramAction(err, "Opened the folder of the program PDF.", w) })
	})
}

func (a *App) reportProgramAction(err error, done string, w fyne.Window) {
	if err != nil {
		a.showError(err, w)
		return
	}
	a.status.SetText(done)
}

// programsChanged refreshes the open Programs tabs of the patient ("" for
// every patient).
func (a *App) programsChanged(patientID string) {
	for _, v := range a.extras().programs {
		if patientID == "" || v.patientID == patientID {
			v.reload()
		}
	}
}

// shareColumns lays out a row's cells side by side, each taking its share
// of the width.
type shareColumns struct {
	shares []float32
}

func (c *shareColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	free := max(size.Width-pad*float32(len(objs)-1), 0)
	x := float32(0)
	for i, o := range objs {
		if i >= len(c.shares) {
			break
		}
		w := free * c.shares[i]
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(x, 0))
		x += w + pad
	}
}

func (c *shareColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	// Cells truncate: the row asks only for its height.
	return fyne.NewSize(0, h)
}
