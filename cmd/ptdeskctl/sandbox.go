package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"ptdesk/core"
	"ptdesk/core/sandbox"
)

func cmdSandbox(ctx context.Context, c *cli, args []string) error {
	fs := flags("sandbox")
	addr := fs.String("addr", sandbox.DefaultAddr, "address to listen on")
	webhookURL := fs.String("webhook-url", "", "where to post program webhooks (PT Desk's listener, e.g. http://127.0.0.1:8765/webhooks/physitrack)")
	secretFile := fs.String("webhook-secret-file", "", "file holding the webhook secret to send as api_key, or - to read it from standard input")
	retryDelay := fs.Duration("webhook-retry-delay", sandbox.DefaultWebhookRetryDelay, "wait before the one retry of a webhook that did not get 200")
	lifetime := fs.Duration("pdf-lifetime", sandbox.DefaultPDFLifetime, "how long a program's PDF link works")
	if _, err := parse(fs, args, 0, 0, "only flags"); err != nil {
		return err
	}
	if (*webhookURL == "") != (*secretFile == "") {
		return usagef("sandbox: give --webhook-url and --webhook-secret-file together")
	}
	var secret string
	if *secretFile != "" {
		var err error
		if secret, err = readSandboxSecret(c, *secretFile); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(c.stderr, nil))
	sb := sandbox.New(sandbox.Options{Logger: log, WebhookURL: *webhookURL, WebhookSecret: secret,
		WebhookRetryDelay: *retryDelay, PDFLifetime: *lifetime})
	run, err := sb.Start(ctx, *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Physitrack sandbox on %s — paste keys at %s/settings, see clients at %s/clients. Ctrl+C stops it.\n", run.URL(), run.URL(), run.URL())
	if *webhookURL != "" {
		fmt.Fprintf(c.stderr, "Programs assigned on a client's page are posted to %s; PT Desk must allow their PDFs: ptdeskctl config set download-origins \"https://*.physitrack.com,%s\"\n", *webhookURL, run.URL())
	}
	<-ctx.Done()
	return run.Close()
}

// readSandboxSecret reads the secret from a file or, for "-", one line of
// standard input; it is never echoed.
func readSandboxSecret(c *cli, path string) (string, error) {
	if path == "-" {
		return readKey(c.stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", core.Errorf(core.EINVALID, "webhook-secret-file", "Could not read the webhook secret file %s (%v).", path, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", core.Errorf(core.EINVALID, "webhook-secret-file", "The webhook secret file %s is empty.", path)
	}
	return s, nil
}
