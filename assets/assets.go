// Package assets bundles PT Desk's icon into the binary, so that the window,
// the tray and the packages show the same picture without reading files at
// run time. icon.svg is the source; icon_gen.go renders icon.png (512
// pixels, for fyne package) and icon-128.png (the window and the tray).
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icon-128.png
var iconPNG []byte

// Icon is the app icon, a magnifying glass over a person on teal, at the
// size windows and trays show (a 512-pixel image costs tens of
// milliseconds at every start, for nothing).
var Icon fyne.Resource = fyne.NewStaticResource("ptdesk.png", iconPNG)
