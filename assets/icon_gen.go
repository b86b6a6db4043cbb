//go:build ignore

// icon_gen renders icon.svg to icon.png (512 pixels, for packages) and
// icon-128.png (for the window and the tray, which never show it larger and
// start faster with a small image). Run it after changing the SVG:
//
//	go run assets/icon_gen.go
package main

import (
	"fmt"
	"image"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"runtime"

	"github.com/fyne-io/oksvg"
	"github.com/srwiley/rasterx"
)

func main() {
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	for _, size := range []int{512, 128} {
		name := "icon.png"
		if size != 512 {
			name = fmt.Sprintf("icon-%d.png", size)
		}
		if err := render(filepath.Join(dir, "icon.svg"), filepath.Join(dir, name), size); err != nil {
			log.Fatal(err)
		}
	}
}

func render(svg, out string, size int) error {
	icon, err := oksvg.ReadIcon(svg)
	if err != nil {
		return fmt.Errorf("read %s: %w", svg, err)
	}
	icon.SetTarget(0, 0, float64(size), float64(size))
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	icon.Draw(rasterx.NewDasher(size, size, rasterx.NewScannerGV(size, size, img, img.Bounds())), 1)
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", out, err)
	}
	return f.Close()
}
