package ui

import (
	"time"

	"fyne.io/fyne/v2"
)

// ClipboardClearAfter is how long a copied key may stay on the clipboard.
// A key is a password: left on the clipboard it ends up pasted into a chat
// or an email by accident.
const ClipboardClearAfter = 60 * time.Second

// Clock schedules the one timer PT Desk sets on its own: clearing a copied
// key from the clipboard. Tests inject a clock they fire by hand, so that no
// test sleeps for a minute.
type Clock interface {
	// AfterFunc calls f once, on its own goroutine, after d; the returned
	// function cancels the call if it has not happened yet.
	AfterFunc(d time.Duration, f func()) (cancel func())
}

// realClock is the system timer.
type realClock struct{}

func (realClock) AfterFunc(d time.Duration, f func()) func() {
	t := time.AfterFunc(d, f)
	return func() { t.Stop() }
}

// secretClipboard copies a secret and takes it back later, but only if the
// clipboard still holds it: whatever the user copied since is left alone.
type secretClipboard struct {
	clipboard fyne.Clipboard
	clock     Clock
	cancel    func()
}

// copy puts secret on the clipboard and schedules its removal after
// ClipboardClearAfter. A second copy replaces the pending removal.
func (c *secretClipboard) copy(secret string) {
	if c.cancel != nil {
		c.cancel()
	}
	c.clipboard.SetContent(secret)
	c.cancel = c.clock.AfterFunc(ClipboardClearAfter, func() {
		fyne.Do(func() { c.clearIfHolds(secret) })
	})
}

// clearIfHolds empties the clipboard when it still holds secret.
func (c *secretClipboard) clearIfHolds(secret string) {
	if c.clipboard.Content() == secret {
		c.clipboard.SetContent("")
	}
}
