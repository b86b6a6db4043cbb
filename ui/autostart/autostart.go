// Package autostart starts PT Desk when the user signs in to the computer:
// an XDG autostart entry on Linux and the BSDs, a value under the user's
// Run key on Windows, a LaunchAgent on macOS. It is off until the user
// turns it on in Settings, and turning it off removes exactly what turning
// it on created.
package autostart

// Entry is PT Desk's start-at-sign-in entry for the current user.
type Entry struct {
	// ID names the entry: the .desktop and .plist file name, the Run
	// value's name. The app ID, e.g. com.ptdesk.app.
	ID string
	// Name is what sign-in settings show, e.g. "PT Desk".
	Name string
	// Exec is the absolute path of the program, Args its arguments.
	Exec string
	Args []string
	// Dir overrides the folder entries are written to on Linux and macOS
	// (tests); empty means the platform's own.
	Dir string
}

// New describes the entry that starts exec with args at sign-in.
func New(id, name, exec string, args ...string) *Entry {
	return &Entry{ID: id, Name: name, Exec: exec, Args: args}
}

// Enabled reports whether PT Desk starts at sign-in.
func (e *Entry) Enabled() (bool, error) { return e.enabled() }

// SetEnabled creates or removes the entry. Enabling again rewrites it, so
// an entry left by a copy of PT Desk that has since moved is corrected.
func (e *Entry) SetEnabled(on bool) error {
	if on {
		return e.enable()
	}
	return e.disable()
}
