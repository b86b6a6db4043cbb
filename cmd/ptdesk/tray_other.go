//go:build !(linux || freebsd || openbsd || netbsd)

package main

// trayState says whether the tray can work on this desktop: Windows and
// macOS always have one.
type trayState struct{ available bool }

func trayOnDesktop() trayState { return trayState{available: true} }

func (trayState) hostPresent() bool { return true }
