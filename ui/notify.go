package ui

import (
	"context"

	"fyne.io/fyne/v2"

	"ptdesk/core"
	"ptdesk/core/desk"
)

// watchPrograms tells the desk of every program filed ("Knee rehab program
// for Jane Smith") and every event that needs someone, whichever process
// filed it, until ctx ends.
func (a *App) watchPrograms(ctx context.Context) {
	err := a.desk.WatchPrograms(ctx, 0, func(n desk.ProgramNotice) {
		fyne.Do(func() { a.onProgramNotice(n) })
	})
	if err != nil && ctx.Err() == nil {
		fyne.Do(func() { a.status.SetText("Program notifications are off: " + core.ErrorMessage(err)) })
	}
}

// onProgramNotice sends the desktop notification and refreshes what shows
// programs: the patient's Programs tab and the Inbox.
func (a *App) onProgramNotice(n desk.ProgramNotice) {
	a.fyne.SendNotification(programNotification(n))
	a.status.SetText(n.Message)
	if n.Program != nil {
		a.programsChanged(n.Program.PatientID)
	}
	a.inboxChanged()
}

// programNotification is the notification for a notice: a program that
// arrived, or one that needs someone in the Inbox.
func programNotification(n desk.ProgramNotice) *fyne.Notification {
	title := "Program arrived"
	if n.Event != nil {
		title = "Program needs attention"
	}
	return fyne.NewNotification(title, n.Message)
}
