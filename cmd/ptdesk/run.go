package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/secrets"
	"ptdesk/ui"
	"ptdesk/ui/autostart"
	"ptdesk/ui/instance"
)

// run starts PT Desk, or brings the copy already running forward.
func run(f flags) error {
	ctx := context.Background()
	home, err := desk.HomeDir(f.home)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create the data directory %s: %w", home, err)
	}
	var window *ui.App // set before the app runs; read on the UI thread
	inst, err := instance.Claim(home, func() {
		fyne.Do(func() {
			if window != nil {
				window.ShowSearch()
			}
		})
	})
	if err != nil {
		return err
	}
	defer inst.Close()

	a := app.NewWithID(appID)
	opts := desk.HomeOptions{
		Home:   home,
		DB:     f.db,
		Opener: browserOpener{},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		// On a clinic database, the practitioners screens of the other
		// desks show which keys this one holds.
		ReportKeys: true,
	}
	if f.demo {
		opts.Secrets = secrets.NewMemory()
	}
	d, err := desk.OpenHome(ctx, opts)
	if err != nil {
		return err
	}
	defer d.Close()
	if f.demo {
		if err := seedDemo(ctx, d); err != nil {
			return fmt.Errorf("fill the demo directory: %w", err)
		}
	}
	tray := trayOnDesktop()
	uiOpts := ui.Options{Tray: tray.available, TrayHost: tray.hostPresent}
	if exe, err := os.Executable(); err == nil {
		uiOpts.Autostart = autostart.New(appID, "PT Desk", exe, "--hidden")
	}
	window, err = ui.New(ctx, a, d, uiOpts)
	if err != nil {
		return fmt.Errorf("start the window: %w", err)
	}
	// Started hidden (at sign-in), the window still shows when no tray
	// could bring it back.
	window.Start(!f.hidden || !tray.available || !tray.hostPresent())
	stopLive := window.StartLive(ctx) // program listener, notifications, other desks' changes
	defer stopLive()
	if f.screen != "" {
		a.Lifecycle().SetOnStarted(func() {
			if err := window.ShowScreen(f.screen); err != nil {
				fmt.Fprintln(os.Stderr, "ptdesk:", core.ErrorMessage(err))
			}
		})
	}
	a.Run()
	return nil
}
