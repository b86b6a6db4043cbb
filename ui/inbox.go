package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// recentArrivals is how many filed programs the Inbox lists.
const recentArrivals = 20

// inboxWindow lists the program webhooks people may need to see: those not
// yet filed (waiting, unmatched, refused, expired), then the recent
// arrivals, each with what can be done: Retry, or Assign to a patient.
type inboxWindow struct {
	app     *App
	win     fyne.Window
	items   []*desk.InboxEntry
	list    *widget.List
	heading *widget.Label
	// lastAssign is the Assign dialog opened last, for the keyboard and
	// tests.
	lastAssign *assignDialog
}

// showInbox opens the Inbox window.
func (a *App) showInbox() {
	x := a.extras()
	if x.inbox == nil {
		x.inbox = newInboxWindow(a)
	}
	x.inbox.reload()
	x.inbox.win.Show()
	x.inbox.win.RequestFocus()
}

// inboxChanged refreshes the Inbox when it is open.
func (a *App) inboxChanged() {
	if a.live != nil && a.live.inbox != nil {
		a.live.inbox.reload()
	}
}

func newInboxWindow(a *App) *inboxWindow {
	w := &inboxWindow{app: a}
	w.win = a.fyne.NewWindow("Inbox — PT Desk")
	w.win.SetIcon(a.win.Icon())
	w.win.SetContent(w.buildUI())
	w.win.Resize(fyne.NewSize(900, 520))
	w.win.SetCloseIntercept(w.win.Hide)
	return w
}

func (w *inboxWindow) buildUI() fyne.CanvasObject {
	w.heading = &widget.Label{Wrapping: fyne.TextWrapWord}
	w.list = &widget.List{
		Length:     func() int { return len(w.items) },
		CreateItem: newInboxRow,
		UpdateItem: w.updateRow,
	}
	refresh := &widget.Button{Text: "Refresh", Icon: theme.ViewRefreshIcon(), OnTapped: w.reload}
	closeBtn := &widget.Button{Text: "Close", OnTapped: w.win.Hide}
	top := container.NewBorder(nil, nil, nil, refresh, w.heading)
	return container.NewBorder(container.NewPadded(top), container.NewPadded(container.NewHBox(closeBtn)), nil, nil, w.list)
}

// reload reads the events off the UI thread.
func (w *inboxWindow) reload() {
	a := w.app
	d, ctx := a.desk, a.ctx
	a.goBackground(func() {
		open, err := d.ProgramInbox(ctx, core.InboxFilter{})
		var filed []*desk.InboxEntry
		if err == nil {
			filed, err = d.ProgramInbox(ctx, core.InboxFilter{Statuses: []core.WebhookStatus{core.WebhookFiled}, Limit: recentArrivals})
		}
		fyne.Do(func() { w.show(append(open, filed...), err) })
	})
}

func (w *inboxWindow) show(items []*desk.InboxEntry, err error) {
	if err != nil {
		w.heading.SetText(core.ErrorMessage(err))
		return
	}
	w.items = items
	attention := 0
	for _, e := range items {
		if e.Status != core.WebhookFiled && e.Status != core.WebhookPending {
			attention++
		}
	}
	switch {
	case len(items) == 0:
		w.heading.SetText("Nothing here yet: programs Physitrack sends appear here as they arrive.")
	case attention == 0:
		w.heading.SetText("Every program is filed or on its way.")
	default:
		w.heading.SetText(fmt.Sprintf("%s need%s someone: retry, or assign to a patient.", plural(attention, "program", "programs"), map[bool]string{true: "s", false: ""}[attention == 1]))
	}
	w.list.Refresh()
}

// inboxStatus is how an event's state reads in the Inbox, and its colour.
func inboxStatus(e *desk.InboxEntry) (string, widget.Importance) {
	switch e.Status {
	case core.WebhookFiled:
		return "Filed", widget.SuccessImportance
	case core.WebhookPending:
		if e.Attempts > 0 {
			return fmt.Sprintf("Retrying (%d tries)", e.Attempts), widget.WarningImportance
		}
		return "Arriving", widget.MediumImportance
	case core.WebhookUnmatched:
		return "Unmatched", widget.DangerImportance
	case core.WebhookExpired:
		return "Expired", widget.DangerImportance
	case core.WebhookRefused:
		return "Failed", widget.DangerImportance
	}
	return string(e.Status), widget.MediumImportance
}

// inboxDetail is the second line of an event: for whom, from whom, when,
// and what went wrong.
func inboxDetail(e *desk.InboxEntry) string {
	var parts []string
	switch {
	case e.PatientName != "":
		parts = append(parts, "for "+e.PatientName)
	case e.PatientID != "":
		parts = append(parts, fmt.Sprintf("for patient id %q (no such patient)", e.PatientID))
	}
	if e.PractitionerName != "" {
		parts = append(parts, "by "+e.PractitionerName)
	} else if e.Status == core.WebhookUnmatched {
		parts = append(parts, "key not known here")
	}
	if !e.ReceivedAt.IsZero() {
		parts = append(parts, "received "+e.ReceivedAt.Local().Format("2 Jan 15:04"))
	}
	s := strings.Join(parts, ", ")
	if e.LastError != "" && e.Status != core.WebhookFiled {
		s += ". " + e.LastError
	}
	return s
}

type inboxRow struct {
	widget.BaseWidget
	status, name, detail *widget.Label
	retry, assign        *widget.Button
	box                  fyne.CanvasObject
}

func newInboxRow() fyne.CanvasObject {
	r := &inboxRow{
		status: &widget.Label{TextStyle: fyne.TextStyle{Bold: true}},
		name:   &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis},
		detail: &widget.Label{Truncation: fyne.TextTruncateEllipsis, SizeName: theme.SizeNameCaptionText},
		retry:  &widget.Button{Text: "Retry", Icon: theme.ViewRefreshIcon()},
		assign: &widget.Button{Text: "Assign…", Icon: theme.AccountIcon()},
	}
	text := container.NewVBox(container.NewBorder(nil, nil, r.status, nil, r.name), r.detail)
	r.box = container.NewBorder(nil, nil, nil, container.NewHBox(r.retry, r.assign), text)
	r.ExtendBaseWidget(r)
	return r
}

func (r *inboxRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

func (w *inboxWindow) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(w.items) {
		return
	}
	r := o.(*inboxRow)
	e := w.items[id]
	text, imp := inboxStatus(e)
	r.status.Importance = imp
	r.status.SetText(text)
	r.name.SetText(e.Name)
	r.detail.SetText(inboxDetail(e))
	eventID := e.ID
	r.retry.OnTapped = func() { w.retry(eventID) }
	r.assign.OnTapped = func() { w.lastAssign = w.showAssign(eventID) }
	if e.Status == core.WebhookFiled {
		r.retry.Hide()
		r.assign.Hide()
	} else {
		r.retry.Show()
		r.assign.Show()
	}
}

// retry asks the worker to try an event again now.
func (w *inboxWindow) retry(eventID int64) {
	a := w.app
	d, ctx := a.desk, a.ctx
	a.goBackground(func() {
		_, err := d.RetryProgram(ctx, eventID)
		fyne.Do(func() { w.requeued(err, "Trying again now.") })
	})
}

// requeued shows the outcome of a Retry or Assign and wakes this app's
// worker, if it runs one.
func (w *inboxWindow) requeued(err error, done string) {
	a := w.app
	if err != nil {
		a.showError(err, w.win)
		return
	}
	if a.live != nil && a.live.server != nil {
		a.live.server.Wake()
	}
	a.status.SetText(done)
	w.reload()
}

// assignDialog picks the patient an event is filed with, through the same
// search as the desk's.
type assignDialog struct {
	inbox   *inboxWindow
	eventID int64
	entry   *widget.Entry
	list    *widget.List
	results []*core.Patient
	picked  *core.Patient
	note    *widget.Label
	dialog  *dialog.CustomDialog
	assign  *widget.Button
}

func (w *inboxWindow) showAssign(eventID int64) *assignDialog {
	ad := &assignDialog{inbox: w, eventID: eventID}
	ad.entry = &widget.Entry{PlaceHolder: "Search patients: name, id, email, phone or birth year"}
	ad.entry.OnChanged = ad.onQuery
	ad.note = newNote()
	ad.list = &widget.List{
		Length:     func() int { return len(ad.results) },
		CreateItem: func() fyne.CanvasObject { return &widget.Label{Truncation: fyne.TextTruncateEllipsis} },
		UpdateItem: func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(ad.results) {
				p := ad.results[id]
				o.(*widget.Label).SetText(p.FullName() + " — " + patientMeta(p))
			}
		},
		OnSelected: ad.onPick,
	}
	ad.assign = &widget.Button{Text: "Assign", Importance: widget.HighImportance, OnTapped: ad.onAssign}
	ad.assign.Disable()
	content := container.NewBorder(container.NewVBox(ad.entry, ad.note), nil, nil, nil, ad.list)
	ad.dialog = dialog.NewCustomWithoutButtons("Assign the program to a patient", content, w.win)
	ad.dialog.SetButtons([]fyne.CanvasObject{&widget.Button{Text: "Cancel", OnTapped: ad.dialog.Hide}, ad.assign})
	ad.dialog.Resize(fyne.NewSize(560, 420))
	ad.dialog.Show()
	w.win.Canvas().Focus(ad.entry)
	return ad
}

func (ad *assignDialog) onQuery(text string) {
	a := ad.inbox.app
	ad.picked = nil
	ad.assign.Disable()
	ps, err := a.desk.Search(a.ctx, text, 50)
	if err != nil {
		setNote(ad.note, core.ErrorMessage(err), widget.DangerImportance)
		return
	}
	setNote(ad.note, "", widget.MediumImportance)
	ad.results = ps
	ad.list.UnselectAll()
	ad.list.Refresh()
}

func (ad *assignDialog) onPick(id widget.ListItemID) {
	if id >= len(ad.results) {
		return
	}
	ad.picked = ad.results[id]
	setNote(ad.note, "Files the program with "+ad.picked.FullName()+" (id "+ad.picked.ID+").", widget.MediumImportance)
	ad.assign.Enable()
}

func (ad *assignDialog) onAssign() {
	if ad.picked == nil {
		return
	}
	w := ad.inbox
	a := w.app
	d, ctx, eventID, p := a.desk, a.ctx, ad.eventID, ad.picked
	ad.dialog.Hide()
	a.goBackground(func() {
		_, err := d.AssignProgram(ctx, eventID, p.ID)
		fyne.Do(func() { w.requeued(err, "Filing the program with "+p.FullName()+".") })
	})
}
