//go:build darwin

package autostart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// dir is the user's LaunchAgents folder.
func (e *Entry) dir() (string, error) {
	if e.Dir != "" {
		return e.Dir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the LaunchAgents folder: %w", err)
	}
	return filepath.Join(home, "Library", "LaunchAgents"), nil
}

// Path is the LaunchAgent's property list.
func (e *Entry) Path() (string, error) {
	d, err := e.dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, e.ID+".plist"), nil
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
	return false, fmt.Errorf("read the LaunchAgent: %w", err)
}

func (e *Entry) enable() error {
	p, err := e.Path()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create the LaunchAgents folder: %w", err)
	}
	if err := os.WriteFile(p, e.plist(), 0o644); err != nil {
		return fmt.Errorf("write the LaunchAgent: %w", err)
	}
	return nil
}

func (e *Entry) disable() error {
	p, err := e.Path()
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the LaunchAgent: %w", err)
	}
	return nil
}

// plist is a LaunchAgent that runs the program once at sign-in.
func (e *Entry) plist() []byte {
	var b bytes.Buffer
	str := func(s string) {
		b.WriteString("\t\t<string>")
		_ = xml.EscapeText(&b, []byte(s))
		b.WriteString("</string>\n")
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>`)
	_ = xml.EscapeText(&b, []byte(e.ID))
	b.WriteString("</string>\n\t<key>ProgramArguments</key>\n\t<array>\n")
	str(e.Exec)
	for _, a := range e.Args {
		str(a)
	}
	b.WriteString("\t</array>\n\t<key>RunAtLoad</key>\n\t<true/>\n</dict>\n</plist>\n")
	return b.Bytes()
}
