//go:build linux || freebsd || openbsd || netbsd

package main

import (
	"os"
	"path/filepath"

	"github.com/godbus/dbus/v5"
)

// trayState says whether the tray can work on this desktop.
type trayState struct {
	// available: a session bus exists, so the tray library can start (it
	// crashes at exit without one).
	available bool
	bus       *dbus.Conn
}

// watcherName is the D-Bus name of the StatusNotifier host that shows tray
// icons on Linux desktops.
const watcherName = "org.kde.StatusNotifierWatcher"

// trayOnDesktop connects to the session bus once. It never starts a bus
// (no autolaunch): a desktop session has one, and without one the tray
// stays off.
func trayOnDesktop() trayState {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
			if _, err := os.Stat(filepath.Join(rt, "bus")); err == nil {
				addr = "unix:path=" + filepath.Join(rt, "bus")
			}
		}
	}
	if addr == "" {
		return trayState{}
	}
	conn, err := dbus.Dial(addr)
	if err != nil {
		return trayState{}
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return trayState{}
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return trayState{}
	}
	return trayState{available: true, bus: conn}
}

// hostPresent asks the bus, when the window is closed, whether something
// shows tray icons; without it, hiding the window would leave no way back.
func (t trayState) hostPresent() bool {
	if t.bus == nil {
		return false
	}
	var has bool
	err := t.bus.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has)
	return err == nil && has
}
