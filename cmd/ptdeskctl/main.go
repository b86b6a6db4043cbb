// Command ptdeskctl is PT Desk's command line: it manages the patient
// directory, practitioners and their keys, opens patients in Physitrack from
// scripts, and runs the Physitrack sandbox. It never links the desktop
// toolkit, so it builds with CGO_ENABLED=0 and runs on a clinic server.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	code := c.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
