package main

import (
	"context"
	"fmt"
	"log/slog"

	"ptdesk/core/desk"
	"ptdesk/core/programs"
)

// cmdServe runs the program webhook listener and its worker for the data
// directory until interrupted (SIGINT or SIGTERM), for a clinic server or
// a desk where the app is not running.
func cmdServe(ctx context.Context, c *cli, args []string) error {
	fs := flags("serve")
	addr := fs.String("addr", programs.DefaultAddr, "HOST:PORT to listen on")
	path := fs.String("path", programs.DefaultPath, "the webhook's path")
	cert := fs.String("tls-cert", "", "serve https with this PEM certificate (with --tls-key)")
	key := fs.String("tls-key", "", "the certificate's PEM private key")
	secretFile := fs.String("secret-file", "", "read the webhook secret from this file (readable by its owner only) instead of the system keyring")
	if _, err := parse(fs, args, 0, 0, "only flags: [--addr HOST:PORT] [--path P] [--tls-cert F --tls-key F] [--secret-file F]"); err != nil {
		return err
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	srv, err := d.StartPrograms(ctx, desk.ProgramsOptions{
		Addr: *addr, Path: *path, TLSCertFile: *cert, TLSKeyFile: *key, SecretFile: *secretFile, Logger: log,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Receiving program webhooks at %s for %s. Ctrl+C stops.\n", srv.URL(), d.Home())
	<-ctx.Done()
	return srv.Close()
}
