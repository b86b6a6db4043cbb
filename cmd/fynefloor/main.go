// Command fynefloor is the smallest Fyne program that looks like PT Desk's
// search window: one window with an entry and a 50-item list. The benchmarks
// run it beside ptdesk to show what the toolkit itself costs, so that PT
// Desk's own start time, memory and idle CPU can be judged against that floor.
//
// Typing filters the list (so that a keystroke does comparable work) and Esc
// in the entry hides the window while the program keeps running (the
// "hidden" idle case), as Esc on PT Desk's empty search does.
package main

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// escEntry is an entry that calls onEscape for Esc: a focused entry keeps
// every key to itself.
type escEntry struct {
	widget.Entry
	onEscape func()
}

// TypedKey hides on Esc; other keys edit the text.
func (e *escEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

func main() {
	a := app.NewWithID("com.ptdesk.fynefloor")
	w := a.NewWindow("Fyne floor")
	all := make([]string, 50)
	for i := range all {
		all[i] = fmt.Sprintf("Item %02d", i+1)
	}
	shown := all
	list := widget.NewList(
		func() int { return len(shown) },
		func() fyne.CanvasObject { return widget.NewLabel("Item 00") },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(shown[id]) },
	)
	entry := &escEntry{onEscape: w.Hide}
	entry.ExtendBaseWidget(entry)
	entry.OnChanged = func(s string) {
		shown = shown[:0:0]
		for _, it := range all {
			if strings.Contains(strings.ToLower(it), strings.ToLower(s)) {
				shown = append(shown, it)
			}
		}
		list.Refresh()
	}
	w.SetContent(container.NewBorder(entry, nil, nil, nil, list))
	w.Resize(fyne.NewSize(980, 600)) // the size of PT Desk's window
	w.Canvas().Focus(entry)
	w.ShowAndRun()
}
