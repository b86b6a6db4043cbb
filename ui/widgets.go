package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// keyEntry is an entry for the app's forms that also answers Esc (cancel)
// and the form's shortcuts: a focused Fyne entry keeps every key and
// shortcut to itself, so without this a form could not be saved with
// Ctrl+S or closed with Esc from the keyboard.
type keyEntry struct {
	widget.Entry
	onEscape   func()
	onShortcut func(fyne.Shortcut) bool
}

func newKeyEntry() *keyEntry {
	e := &keyEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey runs onEscape for Esc; other keys edit the text.
func (e *keyEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onEscape != nil {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

// TypedShortcut offers the shortcut to the form first.
func (e *keyEntry) TypedShortcut(sc fyne.Shortcut) {
	if e.onShortcut != nil && e.onShortcut(sc) {
		return
	}
	e.Entry.TypedShortcut(sc)
}

// ctrl is the shortcut Ctrl+key (Cmd+key on macOS).
func ctrl(key fyne.KeyName) *desktop.CustomShortcut {
	return &desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}
}

// isShortcut reports whether sc is Ctrl (Cmd on macOS) + key.
func isShortcut(sc fyne.Shortcut, key fyne.KeyName) bool {
	cs, ok := sc.(*desktop.CustomShortcut)
	return ok && cs.KeyName == key && cs.Modifier == fyne.KeyModifierShortcutDefault
}

// note is the line under a form field: a hint, a warning, or the reason the
// value is refused. It wraps, because the reasons are whole sentences.
func newNote() *widget.Label {
	return &widget.Label{Wrapping: fyne.TextWrapWord, SizeName: theme.SizeNameCaptionText}
}

// setNote shows text in the importance's colour (Danger for errors,
// Warning for warnings, Medium for hints); empty text hides the note.
func setNote(l *widget.Label, text string, imp widget.Importance) {
	l.Text = text
	l.Importance = imp
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
	l.Refresh()
}

// confirm asks before an action that cannot be taken back: the message
// wraps (it says what will happen), the buttons name the action and
// "Cancel", and onConfirm runs only on the action.
func confirm(parent fyne.Window, title, message, action string, imp widget.Importance, onConfirm func()) {
	text := &widget.Label{Text: message, Wrapping: fyne.TextWrapWord}
	d := dialog.NewCustomConfirm(title, action, "Cancel", text, func(ok bool) {
		if ok {
			onConfirm()
		}
	}, parent)
	d.SetConfirmImportance(imp)
	d.Resize(fyne.NewSize(500, 0))
	d.Show()
}
