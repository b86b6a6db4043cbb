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

// keyView hands a key over to the practitioner: shown masked unless
// revealed, copied to the clipboard for 60 seconds at most, with the steps
// for pasting it into Physitrack.
type keyView struct {
	screen *practitionersScreen
	p      *core.Practitioner
	key    string

	text   *widget.Label
	reveal *widget.Check
	copied *widget.Label
	dialog *dialog.CustomDialog
	// confirm is the rotation's "use the new key" step; nil for a first key.
	confirm *widget.Button
}

// masked hides a key but keeps its length visible.
func masked(key string) string { return strings.Repeat("•", len(key)) }

func newKeyView(s *practitionersScreen, p *core.Practitioner, key string, rotating bool) *keyView {
	v := &keyView{screen: s, p: p, key: key}
	v.text = &widget.Label{Text: masked(key), TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapBreak}
	v.reveal = &widget.Check{Text: "Show key", OnChanged: v.onReveal}
	v.copied = newNote()
	setNote(v.copied, fmt.Sprintf("After copying, PT Desk clears the clipboard in %d seconds if it still holds the key.", int(ClipboardClearAfter.Seconds())), widget.MediumImportance)
	copyBtn := &widget.Button{Text: "Copy key", Icon: theme.ContentCopyIcon(), Importance: widget.HighImportance, OnTapped: v.onCopy}

	origin, err := p.Origin()
	if err != nil {
		origin = p.Server
	}
	open := &widget.Button{Text: "Open " + origin, Icon: theme.ComputerIcon(), OnTapped: func() { s.openOrigin(p) }}
	step := func(n int, text string) fyne.CanvasObject {
		return container.NewBorder(nil, nil, &widget.Label{Text: fmt.Sprintf("%d.", n), TextStyle: fyne.TextStyle{Bold: true}}, nil,
			&widget.Label{Text: text, Wrapping: fyne.TextWrapWord})
	}
	steps := container.NewVBox(
		step(1, "Copy the key."),
		container.NewHBox(copyBtn),
		v.copied,
		step(2, fmt.Sprintf("Open Physitrack and sign in as %s.", p.Name)),
		container.NewHBox(open),
		step(3, "Go to My account > Settings (newer screens call the field \"PMS Token\" and ask you to pick the practice system), paste the key and save. A PT Direct admin can do it instead: Practitioners page > the practitioner > paste > Save."),
	)
	if rotating {
		steps.Add(step(4, "Come back here and confirm. Until then PT Desk keeps using the old key; once the new key is pasted in Physitrack, the old one no longer works there."))
		v.confirm = &widget.Button{Text: "I pasted it — use the new key", Icon: theme.ConfirmIcon(), Importance: widget.HighImportance, OnTapped: v.onConfirmRotation}
		steps.Add(container.NewHBox(v.confirm))
	}
	fp := &widget.Label{Text: "Fingerprint " + desk.KeyFingerprint(key) + " (safe to show; the key is not)", SizeName: theme.SizeNameCaptionText}
	content := container.NewVBox(
		container.NewBorder(nil, nil, nil, v.reveal, v.text),
		fp,
		widget.NewSeparator(),
		steps,
	)
	title := "New key for " + p.Name
	if rotating {
		title = "Rotate the key of " + p.Name
	}
	v.dialog = dialog.NewCustomWithoutButtons(title, content, s.win)
	done := "Done"
	if rotating {
		done = "Cancel rotation"
	}
	v.dialog.SetButtons([]fyne.CanvasObject{&widget.Button{Text: done, OnTapped: v.close}})
	v.dialog.Resize(fyne.NewSize(620, 0))
	v.dialog.SetOnClosed(v.forget)
	return v
}

func (v *keyView) show() {
	v.dialog.Show()
	v.screen.keyView = v
}

func (v *keyView) close() { v.dialog.Hide() }

// forget drops the key from memory once the dialog is gone.
func (v *keyView) forget() {
	v.key = ""
	v.text.SetText("")
	if v.screen.keyView == v {
		v.screen.keyView = nil
	}
}

func (v *keyView) onReveal(on bool) {
	if on {
		v.text.SetText(v.key)
	} else {
		v.text.SetText(masked(v.key))
	}
}

func (v *keyView) onCopy() {
	v.screen.app.clip.copy(v.key)
	setNote(v.copied, fmt.Sprintf("Copied. PT Desk clears the clipboard in %d seconds if it still holds the key.", int(ClipboardClearAfter.Seconds())), widget.SuccessImportance)
}

// onConfirmRotation asks once more, then replaces the key: only now does
// the old key leave this computer's keyring.
func (v *keyView) onConfirmRotation() {
	s, p, key := v.screen, v.p, v.key
	msg := fmt.Sprintf("Use the new key for %s from now on? The old key is removed from this computer's keyring. Make sure the new key is pasted in Physitrack first: opening patients fails until it is.", p.Name)
	confirm(s.win, "Use the new key?", msg, "Use the new key", widget.HighImportance, func() {
		if _, err := s.app.desk.SetKey(s.app.ctx, p.ID, key); err != nil {
			s.app.showError(err, s.win)
			return
		}
		v.close()
		s.changed(p.ID)
		s.app.announce(fmt.Sprintf("%s now uses the new key (fingerprint %s).", p.Name, desk.KeyFingerprint(key)), false)
	})
}

// onGenerate makes a first key: it is saved right away (there is no old
// key to keep) and then handed over.
func (s *practitionersScreen) onGenerate() {
	p := s.current()
	if p == nil {
		return
	}
	if p.Key != nil {
		s.onRotate()
		return
	}
	key, saved, err := s.app.desk.SetNewKey(s.app.ctx, p.ID)
	if err != nil {
		s.app.showError(err, s.win)
		return
	}
	s.changed(saved.ID)
	newKeyView(s, saved, key, false).show()
}

// onRotate explains rotation, then generates a new key without saving it:
// the old key keeps working here until the new one is pasted in Physitrack
// and confirmed.
func (s *practitionersScreen) onRotate() {
	p := s.current()
	if p == nil {
		return
	}
	msg := fmt.Sprintf("PT Desk makes a new key for %s. Paste it into Physitrack before confirming here: from that moment the old key stops working there. PT Desk keeps the old key until you confirm, then removes it from this computer's keyring.", p.Name)
	confirm(s.win, "Rotate the key of "+p.Name+"?", msg, "Make a new key", widget.HighImportance, func() {
		key, err := s.app.desk.GenerateKey()
		if err != nil {
			s.app.showError(err, s.win)
			return
		}
		newKeyView(s, p, key, true).show()
	})
}

// onRemoveKey removes the key from this computer after confirmation.
func (s *practitionersScreen) onRemoveKey() {
	p := s.current()
	if p == nil {
		return
	}
	msg := fmt.Sprintf("%s's key is removed from this computer's keyring; this desk can no longer open patients for them until a key is set again. Physitrack keeps the key until it is replaced there.", p.Name)
	confirm(s.win, "Remove the key of "+p.Name+"?", msg, "Remove key", widget.DangerImportance, func() {
		if _, err := s.app.desk.RemoveKey(s.app.ctx, p.ID); err != nil {
			s.app.showError(err, s.win)
			return
		}
		s.changed(p.ID)
	})
}

// offerKeySetup asks how to give the selected practitioner a key: a new
// one, or the one already pasted in Physitrack (from another desk).
func (s *practitionersScreen) offerKeySetup() {
	p := s.current()
	if p == nil {
		return
	}
	text := &widget.Label{Wrapping: fyne.TextWrapWord,
		Text: fmt.Sprintf("%s needs a Physitrack key on this computer to open patients. Generate a new key and paste it into Physitrack, or paste the key %s already uses (for example from another desk).", p.Name, p.Name)}
	var d *dialog.CustomDialog
	gen := &widget.Button{Text: "Generate a new key", Icon: theme.LoginIcon(), Importance: widget.HighImportance, OnTapped: func() { d.Hide(); s.onGenerate() }}
	paste := &widget.Button{Text: "Paste an existing key", Icon: theme.ContentPasteIcon(), OnTapped: func() { d.Hide(); s.onPaste() }}
	d = dialog.NewCustomWithoutButtons("Set up the key of "+p.Name, text, s.win)
	d.SetButtons([]fyne.CanvasObject{&widget.Button{Text: "Cancel", OnTapped: func() { d.Hide() }}, paste, gen})
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
	s.setup = d
	s.win.Canvas().Focus(gen)
}

// pasteKeyForm takes a key that already exists, checked with Physitrack's
// rule as it is pasted.
type pasteKeyForm struct {
	screen *practitionersScreen
	p      *core.Practitioner
	entry  *keyEntry
	note   *widget.Label
	dialog *dialog.CustomDialog
}

func (s *practitionersScreen) onPaste() {
	p := s.current()
	if p == nil {
		return
	}
	f := &pasteKeyForm{screen: s, p: p, note: newNote()}
	f.entry = newKeyEntry()
	f.entry.Password = true
	f.entry.PlaceHolder = "paste the key here"
	f.entry.Validator = desk.CheckKey
	f.entry.OnChanged = func(string) { f.check() }
	f.entry.OnSubmitted = func(string) { f.save() }
	f.entry.onEscape = func() { f.dialog.Hide() }
	intro := fmt.Sprintf("Paste the key that is already in %s's Physitrack account (My account > Settings). It is kept only in this computer's keyring.", p.Name)
	if p.Key != nil {
		intro += fmt.Sprintf(" It replaces the key with fingerprint %s on this desk.", p.Key.Fingerprint)
	}
	content := container.NewVBox(&widget.Label{Text: intro, Wrapping: fyne.TextWrapWord}, f.entry, f.note)
	f.dialog = dialog.NewCustomWithoutButtons("Paste the key of "+p.Name, content, s.win)
	f.dialog.SetButtons([]fyne.CanvasObject{
		&widget.Button{Text: "Cancel", OnTapped: func() { f.dialog.Hide() }},
		&widget.Button{Text: "Save key", Importance: widget.HighImportance, OnTapped: f.save},
	})
	f.dialog.Resize(fyne.NewSize(560, 0))
	f.dialog.SetOnClosed(func() {
		f.entry.SetText("")
		if s.paste == f {
			s.paste = nil
		}
	})
	s.paste = f
	f.dialog.Show()
	s.win.Canvas().Focus(f.entry)
}

// check shows why the key is refused, or its fingerprint when accepted.
func (f *pasteKeyForm) check() error {
	k := f.entry.Text
	if k == "" {
		setNote(f.note, "", widget.MediumImportance)
		return desk.CheckKey(k)
	}
	if err := desk.CheckKey(k); err != nil {
		setNote(f.note, core.ErrorMessage(err), widget.DangerImportance)
		return err
	}
	setNote(f.note, "Looks right. Fingerprint "+desk.KeyFingerprint(k)+".", widget.SuccessImportance)
	return nil
}

func (f *pasteKeyForm) save() {
	if err := f.check(); err != nil {
		setNote(f.note, core.ErrorMessage(err), widget.DangerImportance)
		return
	}
	s := f.screen
	saved, err := s.app.desk.SetKey(s.app.ctx, f.p.ID, f.entry.Text)
	if err != nil {
		setNote(f.note, core.ErrorMessage(err), widget.DangerImportance)
		return
	}
	f.dialog.Hide()
	s.changed(saved.ID)
	s.app.announce(fmt.Sprintf("Saved the key of %s (fingerprint %s).", saved.Name, saved.Key.Fingerprint), false)
}
