package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"ptdesk/core"
	"ptdesk/core/postgres"
	"ptdesk/core/programs"
	"ptdesk/core/sqlite"
)

// The postgres section measures the clinic store: search on PostgreSQL
// against SQLite on the same patients (copied with their ids, as `ptdeskctl
// migrate` copies them) in the same run, and the webhook listener's
// acknowledgement with PostgreSQL as the queue. It needs a server where it
// may create a schema: PTDESKBENCH_DB, else PTDESK_TEST_DB.
const (
	postgresBenchEnv   = "PTDESKBENCH_DB"
	postgresSearchP99  = 20 * time.Millisecond // at 1,000,000 patients
	postgresWebhookAt  = 200                   // webhooks per second
	postgresCopyBatch  = 5000
	postgresSchemaName = "ptdeskbench_"
)

func postgresSection(ctx context.Context, w io.Writer, o options) error {
	server := os.Getenv(postgresBenchEnv)
	if server == "" {
		server = os.Getenv("PTDESK_TEST_DB")
	}
	if server == "" {
		fmt.Fprintf(o.log, "  postgres: not measured, set %s (or PTDESK_TEST_DB) to a server's URL\n", postgresBenchEnv)
		fmt.Fprintf(w, "Not measured: this section needs a PostgreSQL server where it may create a schema; set %s "+
			"(or PTDESK_TEST_DB) to its URL, like postgres://postgres@127.0.0.1:5432/test?sslmode=disable, and run it again.\n", postgresBenchEnv)
		return nil
	}
	var version string
	if err := withAdmin(ctx, server, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT current_setting('server_version')`).Scan(&version)
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "The clinic store (`core/postgres`, PostgreSQL %s on this machine, default settings) against the desk's "+
		"SQLite store, on the same patients in the same run: each size is generated (seed %d) into SQLite, then copied "+
		"into PostgreSQL with its ids (as `ptdeskctl migrate` does) and vacuumed. Both answer the same queries, one call "+
		"each after a warm-up, up to %d per kind; every answer is compared.\n\n", version, o.seed, o.queries)
	var checks []string
	for _, n := range o.sizes {
		c, err := postgresSearchSize(ctx, w, o, server, n)
		if err != nil {
			return err
		}
		checks = append(checks, c...)
	}
	c, err := postgresWebhooks(ctx, w, o, server)
	if err != nil {
		return err
	}
	checks = append(checks, c...)
	fmt.Fprintf(w, "Targets:\n\n")
	for _, c := range checks {
		fmt.Fprintf(w, "- %s\n", c)
	}
	return nil
}

// withAdmin runs fn on a connection to server.
func withAdmin(ctx context.Context, server string, fn func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", postgresBenchEnv, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}

// benchSchema creates a schema for one measurement and returns the
// connection string that uses it, and a function that drops it.
func benchSchema(ctx context.Context, server string) (string, func(), error) {
	b := make([]byte, 6)
	_, _ = crand.Read(b)
	name := postgresSchemaName + hex.EncodeToString(b)
	if err := withAdmin(ctx, server, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize())
		return err
	}); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, fmt.Errorf("%s must be a postgres:// URL: %w", postgresBenchEnv, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	drop := func() {
		_ = withAdmin(context.WithoutCancel(ctx), server, func(c *pgx.Conn) error {
			_, err := c.Exec(context.WithoutCancel(ctx), `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`)
			return err
		})
	}
	return u.String(), drop, nil
}

// postgresSearchSize measures one directory size on both stores.
func postgresSearchSize(ctx context.Context, w io.Writer, o options, server string, n int) ([]string, error) {
	dir, err := os.MkdirTemp("", "ptdeskbench-pg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	lite, err := sqlite.Open(ctx, filepath.Join(dir, "ptdesk.db"))
	if err != nil {
		return nil, err
	}
	defer lite.Close()
	fmt.Fprintf(o.log, "  postgres: generating %d patients into SQLite\n", n)
	sample, r, err := importSample(ctx, lite, o.seed, n, 4096)
	if err != nil {
		return nil, err
	}

	dsn, drop, err := benchSchema(ctx, server)
	if err != nil {
		return nil, err
	}
	defer drop()
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer pg.Close()
	fmt.Fprintf(o.log, "  postgres: copying %d patients into PostgreSQL\n", n)
	start := time.Now()
	if err := copyPatients(ctx, lite, pg); err != nil {
		return nil, err
	}
	copyTime := time.Since(start)
	start = time.Now()
	if err := pg.Vacuum(ctx); err != nil {
		return nil, err
	}
	vacuumTime := time.Since(start)
	var size int64
	if err := withAdmin(ctx, dsn, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT pg_total_relation_size('patients') + pg_total_relation_size('patient_tokens')`).Scan(&size)
	}); err != nil {
		return nil, err
	}
	fmt.Fprintf(o.log, "  postgres: copied in %v, vacuumed in %v\n", copyTime.Round(time.Millisecond), vacuumTime.Round(time.Millisecond))

	fmt.Fprintf(w, "### %s patients\n\n", thousands(n))
	fmt.Fprintf(w, "Copy into PostgreSQL (COPY in batches of %s, one transaction, search tokens included): %.1f s; "+
		"VACUUM (ANALYZE): %.1f s; tables and indexes %.0f MB.\n\n", thousands(postgresCopyBatch),
		copyTime.Seconds(), vacuumTime.Seconds(), float64(size)/1e6)
	fmt.Fprintf(w, "| query kind | SQLite p50 | SQLite p99 | PostgreSQL p50 | PostgreSQL p99 | same answers |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: |\n")
	var checks []string
	for _, k := range queryKinds {
		var texts []string
		for len(texts) < o.queries {
			if t := k.make(sample[r.IntN(len(sample))]); t != "" {
				texts = append(texts, t)
			}
		}
		fmt.Fprintf(o.log, "  postgres: %s\n", k.name)
		liteLat, liteAnswers, err := timeStore(ctx, lite, texts)
		if err != nil {
			return nil, err
		}
		pgLat, pgAnswers, err := timeStore(ctx, pg, texts)
		if err != nil {
			return nil, err
		}
		same := 0
		for i := range texts {
			if liteAnswers[i] == pgAnswers[i] {
				same++
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d of %d |\n", k.name, ms(liteLat.p50), ms(liteLat.p99),
			ms(pgLat.p50), ms(pgLat.p99), same, len(texts))
		if n >= 1_000_000 {
			checks = append(checks, fmt.Sprintf("%s patients, %s: PostgreSQL p99 %s ≤ %s: %s", thousands(n), k.name,
				ms(pgLat.p99), ms(postgresSearchP99), verdict(pgLat.p99 <= postgresSearchP99)))
		}
		checks = append(checks, fmt.Sprintf("%s patients, %s: PostgreSQL answers as SQLite: %s", thousands(n), k.name,
			verdict(same == len(texts))))
	}
	fmt.Fprintln(w)
	return checks, nil
}

// copyPatients copies every patient of lite into pg, ids and all.
func copyPatients(ctx context.Context, lite *sqlite.DB, pg *postgres.DB) error {
	t, err := pg.BeginTransfer(ctx)
	if err != nil {
		return err
	}
	defer t.Rollback(context.WithoutCancel(ctx))
	batch := make([]*core.Patient, 0, postgresCopyBatch)
	flush := func() error {
		clashes, err := t.LoadPatients(ctx, batch)
		if err == nil && len(clashes) > 0 {
			err = fmt.Errorf("copy patients: %d clashes in an empty schema", len(clashes))
		}
		batch = batch[:0]
		return err
	}
	err = lite.EachPatient(ctx, func(p *core.Patient) error {
		batch = append(batch, p)
		if len(batch) == postgresCopyBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return err
	}
	return t.Commit(ctx)
}

// timeStore times one SearchPatients call per text, after a warm-up over
// the first texts, and returns each answer's ids.
func timeStore(ctx context.Context, s core.PatientStore, texts []string) (latency, []string, error) {
	for _, t := range texts[:min(len(texts), 50)] {
		if _, err := s.SearchPatients(ctx, core.PatientQuery{Text: t}); err != nil {
			return latency{}, nil, err
		}
	}
	d := make([]time.Duration, 0, len(texts))
	answers := make([]string, len(texts))
	for i, t := range texts {
		start := time.Now()
		ps, err := s.SearchPatients(ctx, core.PatientQuery{Text: t})
		if err != nil {
			return latency{}, nil, err
		}
		d = append(d, time.Since(start))
		var b bytes.Buffer
		for _, p := range ps {
			b.WriteString(p.ID)
			b.WriteByte(' ')
		}
		answers[i] = b.String()
	}
	return percentiles(d), answers, nil
}

// postgresWebhooks measures the listener's acknowledgement with
// PostgreSQL as the queue, and with SQLite in the same run.
func postgresWebhooks(ctx context.Context, w io.Writer, o options, server string) ([]string, error) {
	dur := webhookDuration
	if v := os.Getenv(webhookDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive duration", webhookDurationEnv, v)
		}
		dur = d
	}
	pdf := bytes.Repeat([]byte("x"), 20<<10)
	copy(pdf, "%PDF-1.4\n")
	pdfs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	defer pdfs.Close()
	fmt.Fprintf(o.log, "postgres: webhooks at %d/s for %s, SQLite queue\n", postgresWebhookAt, dur)
	lite, err := durableRun(ctx, pdfs.URL, postgresWebhookAt, dur)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.log, "postgres: webhooks at %d/s for %s, PostgreSQL queue\n", postgresWebhookAt, dur)
	pg, err := postgresDurableRun(ctx, server, pdfs.URL, postgresWebhookAt, dur)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "### Webhook acknowledgement, PostgreSQL as the queue\n\n")
	fmt.Fprintf(w, "`programs.Start` as `ptdeskctl serve --db postgres://...` runs it: each 200 comes after the event is committed "+
		"(synchronous_commit on), while the worker in the same process downloads each PDF (20 KiB, from a local server) and "+
		"files it in the database. Open-loop load at %d/s for %s, over loopback, as in the webhook section; the SQLite "+
		"queue measured the same way in the same run.\n\n", postgresWebhookAt, dur)
	fmt.Fprintf(w, "| queue | p50 | p99 | max | errors | filed by the end |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range []struct {
		name string
		run  webhookRun
	}{{"SQLite", lite}, {"PostgreSQL", pg}} {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %d of %s | %s of %s |\n", r.name, ms(r.run.lat.p50), ms(r.run.lat.p99),
			ms(r.run.max), r.run.errors, thousands(r.run.sent), thousands(r.run.filed), thousands(r.run.sent))
	}
	fmt.Fprintln(w)
	return []string{fmt.Sprintf("webhook acknowledgement at %d/s, PostgreSQL queue: p99 %s ≤ %s, no errors: %s", postgresWebhookAt,
		ms(pg.lat.p99), ms(webhookTargetP99), verdict(pg.lat.p99 <= webhookTargetP99 && pg.errors == 0 && pg.sent > 0))}, nil
}

// postgresDurableRun is durableRun with a fresh PostgreSQL schema as the
// store, PDFs kept in the database.
func postgresDurableRun(ctx context.Context, server, pdfOrigin string, rate int, dur time.Duration) (webhookRun, error) {
	home, err := os.MkdirTemp("", "ptdeskbench-webhook-pg-")
	if err != nil {
		return webhookRun{}, err
	}
	defer os.RemoveAll(home)
	dsn, drop, err := benchSchema(ctx, server)
	if err != nil {
		return webhookRun{}, err
	}
	defer drop()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return webhookRun{}, err
	}
	defer db.Close()
	if err := seedWebhookDirectory(ctx, db, pdfOrigin); err != nil {
		return webhookRun{}, err
	}
	run, err := programs.Start(ctx, programs.Config{Store: db, Home: home, KeepPDFsInStore: true, Secret: webhookSecret,
		Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return webhookRun{}, err
	}
	res, err := loadWebhooks(ctx, run.URL(), pdfOrigin, rate, dur)
	if cerr := run.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return webhookRun{}, err
	}
	filed, err := db.Programs(ctx, "")
	if err != nil {
		return webhookRun{}, err
	}
	st, err := db.QueueStats(ctx)
	if err != nil {
		return webhookRun{}, err
	}
	if len(filed) > 0 {
		if _, err := db.ProgramPDF(ctx, filed[0].ID); err != nil {
			return webhookRun{}, errors.New("a filed program has no PDF in the database")
		}
	}
	res.filed, res.pending = len(filed), st.Pending
	return res, nil
}
