package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"ptdesk/core"
	"ptdesk/core/keys"
)

func cmdKeysGenerate(_ context.Context, c *cli, args []string) error {
	if _, err := parse(flags("keys generate"), args, 0, 0, "no arguments"); err != nil {
		return err
	}
	k, err := keys.Generate()
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, k)
	return nil
}

func cmdKeysSet(ctx context.Context, c *cli, args []string) error {
	fs := flags("keys set")
	generate := fs.Bool("generate", false, "generate a new key, store it, and print it once for pasting into Physitrack")
	stdin := fs.Bool("stdin", false, "read the key from standard input (one line)")
	pos, err := parse(fs, args, 1, 1, "one PRACTITIONER (id or name) and --generate or --stdin")
	if err != nil {
		return err
	}
	if *generate == *stdin {
		return usagef("keys set needs exactly one of --generate or --stdin")
	}
	d, err := c.openForKeys(ctx, false)
	if err != nil {
		return err
	}
	if *generate {
		k, p, err := d.SetNewKey(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, k)
		fmt.Fprintf(c.stderr, "Stored in the system keyring for %s (fingerprint %s). Paste it in Physitrack now: My account > Settings (PMS Token), or a PT Direct admin: Practitioners > %s > paste > Save. It is not shown again.\n", p.Name, p.Key.Fingerprint, p.Name)
		return nil
	}
	k, err := readKey(c.stdin)
	if err != nil {
		return err
	}
	p, err := d.SetKey(ctx, pos[0], k)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Stored in the system keyring for %s (fingerprint %s).\n", p.Name, p.Key.Fingerprint)
	return nil
}

// readKey reads the key from standard input (see readLine).
func readKey(r io.Reader) (string, error) {
	return readLine(r, "key", "No key on standard input: pipe one line, for example: ptdeskctl keys generate | ptdeskctl keys set NAME --stdin")
}

// readLine reads one line for field; it is never echoed or put in an
// error, as it may be a key or a URL with a password. empty is the error's
// sentence when there is no line.
func readLine(r io.Reader, field, empty string) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read %s from standard input: %w", field, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", core.Errorf(core.EINVALID, field, "%s", empty)
	}
	return line, nil
}

func cmdKeysRemove(ctx context.Context, c *cli, args []string) error {
	pos, err := parse(flags("keys remove"), args, 1, 1, "one PRACTITIONER (id or name)")
	if err != nil {
		return err
	}
	d, err := c.openForKeys(ctx, false)
	if err != nil {
		return err
	}
	p, err := d.RemoveKey(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Removed %s's key from this computer. Paste a new one in Physitrack before opening patients as %s again.\n", p.Name, p.Name)
	return nil
}
