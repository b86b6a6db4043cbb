package main

import (
	"fmt"
	"os/exec"
	"runtime"
)

// browserOpener opens the one-time launch page in the default browser
// without waiting for the browser: on Linux, xdg-open may stay alive as
// long as the browser it started, and the window must not freeze. The
// helper process is waited for in the background so that none is left
// behind as a zombie.
type browserOpener struct{}

// Open starts the platform's URL handler for url.
func (browserOpener) Open(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the browser: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
