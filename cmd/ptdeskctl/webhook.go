package main

import (
	"context"
	"fmt"

	"ptdesk/core/keys"
	"ptdesk/core/programs"
)

// cmdWebhookSecret sets the secret Physitrack sends with every program
// webhook (api_key): in the system keyring, or in a private file for a
// server without one.
func cmdWebhookSecret(ctx context.Context, c *cli, args []string) error {
	fs := flags("webhook secret")
	generate := fs.Bool("generate", false, "generate a new secret, store it, and print it once for Physitrack support")
	stdin := fs.Bool("stdin", false, "read the secret from standard input (one line)")
	file := fs.String("file", "", "store it in this file (readable by its owner only) instead of the system keyring; give the same file to serve --secret-file")
	if _, err := parse(fs, args, 0, 0, "--generate or --stdin, and optionally --file PATH"); err != nil {
		return err
	}
	if *generate == *stdin {
		return usagef("webhook secret needs exactly one of --generate or --stdin")
	}
	var secret string
	var err error
	if *generate {
		secret, err = keys.Generate()
	} else {
		secret, err = readKey(c.stdin)
	}
	if err != nil {
		return err
	}
	where := "the system keyring"
	if *file != "" {
		if err := programs.WriteSecretFile(*file, secret); err != nil {
			return err
		}
		where = *file
	} else {
		d, err := c.open(ctx)
		if err != nil {
			return err
		}
		if err := d.SetWebhookSecret(ctx, secret); err != nil {
			return err
		}
	}
	if *generate {
		fmt.Fprintln(c.stdout, secret)
	}
	fmt.Fprintf(c.stderr, "Webhook secret stored in %s (fingerprint %s). Give it to Physitrack support with your webhook's https URL (ending in %s); webhooks with any other secret are refused.", where, keys.Fingerprint(secret), programs.DefaultPath)
	if *generate {
		fmt.Fprint(c.stderr, " It is not shown again.")
	}
	fmt.Fprintln(c.stderr)
	return nil
}
