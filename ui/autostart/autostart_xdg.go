//go:build !windows && !darwin

package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// dir is $XDG_CONFIG_HOME/autostart (else ~/.config/autostart), as the
// XDG autostart specification says.
func (e *Entry) dir() (string, error) {
	if e.Dir != "" {
		return e.Dir, nil
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "autostart"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the autostart folder: %w", err)
	}
	return filepath.Join(home, ".config", "autostart"), nil
}

// Path is the .desktop file the entry lives in.
func (e *Entry) Path() (string, error) {
	d, err := e.dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, e.ID+".desktop"), nil
}

func (e *Entry) enabled() (bool, error) {
	p, err := e.Path()
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("read the autostart entry: %w", err)
}

func (e *Entry) enable() error {
	p, err := e.Path()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create the autostart folder: %w", err)
	}
	if err := os.WriteFile(p, []byte(e.desktopFile()), 0o644); err != nil {
		return fmt.Errorf("write the autostart entry: %w", err)
	}
	return nil
}

func (e *Entry) disable() error {
	p, err := e.Path()
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the autostart entry: %w", err)
	}
	return nil
}

// desktopFile is the entry in the Desktop Entry format.
func (e *Entry) desktopFile() string {
	args := []string{quoteExecArg(e.Exec)}
	for _, a := range e.Args {
		args = append(args, quoteExecArg(a))
	}
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=" + escapeValue(e.Name) + "\n" +
		"Comment=Find a patient and open them in Physitrack\n" +
		"Exec=" + strings.Join(args, " ") + "\n" +
		"Icon=" + escapeValue(e.ID) + "\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// quoteExecArg quotes one Exec argument as the Desktop Entry specification
// requires: inside double quotes, backslash before ", `, $ and \; and %
// doubled because it starts a field code.
func quoteExecArg(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if s != "" && !strings.ContainsAny(s, " \t\n\"'\\><~|&;$*?#()`=") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if strings.ContainsRune("\"`$\\", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	// The file format itself escapes backslashes once more.
	return escapeValue(b.String())
}

// escapeValue escapes a string value of a Desktop Entry key.
func escapeValue(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\t", "\\t", "\r", "\\r")
	return r.Replace(s)
}
