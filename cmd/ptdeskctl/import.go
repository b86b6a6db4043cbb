package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
)

func cmdPatientsImport(ctx context.Context, c *cli, args []string) error {
	fs := flags("patients import")
	format := fs.String("format", "", "csv or fhir (default: told by the content)")
	mapping := fs.String("map", "", `column mapping overrides, like "Given=first_name,DOB=birth_date"`)
	dryRun := fs.Bool("dry-run", false, "check everything and report, writing nothing")
	dateOrder := fs.String("date-order", "", "dmy or mdy for dates like 03/04/1980 (default: the clinic's region)")
	errorsOut := fs.String("errors", "", "write rejected rows to this CSV file, to fix and import again")
	force := fs.Bool("force", false, "import rows that look like patients already in the directory")
	system := fs.String("identifier-system", "", "FHIR identifier system holding the clinic's patient ids")
	pos, err := parse(fs, args, 1, 1, "one FILE to import")
	if err != nil {
		return err
	}
	switch *format {
	case "", "auto", "csv", "fhir":
	default:
		return usagef("--format must be csv or fhir")
	}
	switch *dateOrder {
	case "", "dmy", "mdy":
	default:
		return usagef("--date-order must be dmy or mdy")
	}
	opts := desk.ImportOptions{Format: *format, DateOrder: *dateOrder, DryRun: *dryRun, Force: *force, IdentifierSystem: *system}
	if *mapping != "" {
		if opts.Mapping, err = desk.ParseImportMapping(*mapping); err != nil {
			return err
		}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return core.Errorf(core.EINVALID, "file", "Could not open %s: %v.", pos[0], err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		opts.Size = st.Size()
	}

	// Rejected rows go to a temporary file that replaces --errors only when
	// there is something to say, so an old error file is never half
	// overwritten.
	var errFile *os.File
	if *errorsOut != "" {
		errFile, err = os.CreateTemp(filepath.Dir(*errorsOut), ".ptdesk-errors-*.csv")
		if err != nil {
			return core.Errorf(core.EINVALID, "errors", "Could not write the error file next to %s: %v.", *errorsOut, err)
		}
		defer os.Remove(errFile.Name())
		defer errFile.Close()
		opts.Errors = errFile
	}
	opts.Progress = c.importProgress()
	limitImportMemory()

	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	report, err := d.Import(ctx, f, opts)
	c.endProgress()
	if err != nil {
		return err
	}
	c.printImportReport(report)
	if errFile != nil && report.Skipped+report.Invalid > 0 {
		if err := errFile.Close(); err != nil {
			return fmt.Errorf("write %s: %w", *errorsOut, err)
		}
		if err := os.Rename(errFile.Name(), *errorsOut); err != nil {
			return fmt.Errorf("write %s: %w", *errorsOut, err)
		}
		fmt.Fprintf(c.stderr, "Rejected rows written to %s: fix them and import that file again.\n", *errorsOut)
	}
	fmt.Fprintln(c.stdout, report.Summary())
	return nil
}

// importMemoryLimit is the soft limit on the Go runtime's memory during
// an import (see limitImportMemory).
const importMemoryLimit = 48 << 20

// limitImportMemory keeps an import's memory flat. Rows stream through and
// little is held at once (the ids seen so far, about 12 bytes each), but by
// default the Go heap grows to twice what it holds between collections; a
// soft limit makes the collector work a little more often instead. Should
// an import need to hold more than the limit, the runtime caps the
// collector's share of the CPU and lets the heap grow past it: the limit
// can slow such an import down, never stop it. GOMEMLIMIT, when set, is
// left to decide.
func limitImportMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(importMemoryLimit)
	}
}

// importProgress reports on stderr at most a few times a second, so a long
// file shows it is moving without flooding a log.
func (c *cli) importProgress() func(desk.ImportProgress) {
	var last time.Time
	return func(p desk.ImportProgress) {
		if time.Since(last) < 500*time.Millisecond {
			return
		}
		last = time.Now()
		if pct := p.Percent(); pct > 0 {
			fmt.Fprintf(c.stderr, "\rimporting: %3.0f%%, %d rows read", pct, p.Rows)
		} else {
			fmt.Fprintf(c.stderr, "\rimporting: %d rows read", p.Rows)
		}
		c.progressShown = true
	}
}

func (c *cli) endProgress() {
	if c.progressShown {
		fmt.Fprintln(c.stderr)
		c.progressShown = false
	}
}

func (c *cli) printImportReport(r *desk.ImportReport) {
	var detected []string
	detected = append(detected, "format "+r.Format)
	if r.Encoding != "" {
		detected = append(detected, "encoding "+r.Encoding)
	}
	if r.Delimiter != "" {
		detected = append(detected, "delimiter "+r.Delimiter)
	}
	if r.DateOrder != "" {
		detected = append(detected, "date order "+r.DateOrder)
	}
	fmt.Fprintf(c.stderr, "Detected %s.\n", strings.Join(detected, ", "))
	var cols []string
	for _, col := range r.Columns {
		if col.Field != "" {
			cols = append(cols, fmt.Sprintf("%q→%s", col.Header, col.Field))
		}
	}
	if len(cols) > 0 {
		fmt.Fprintf(c.stderr, "Columns: %s.\n", strings.Join(cols, ", "))
	}
	if len(r.Ignored) > 0 {
		fmt.Fprintf(c.stderr, "Ignored columns: %s.\n", strings.Join(r.Ignored, ", "))
	}
	for _, p := range r.Problems {
		field := p.Field
		if field == "" {
			field = "row"
		}
		fmt.Fprintf(c.stderr, "row %d: %s: %s\n", p.Row, field, p.Reason)
	}
	if r.MoreProblems > 0 {
		fmt.Fprintf(c.stderr, "... and %d more rejected rows (use --errors FILE to get them all).\n", r.MoreProblems)
	}
}

func cmdPatientsExport(ctx context.Context, c *cli, args []string) error {
	fs := flags("patients export")
	format := fs.String("format", "csv", "csv or fhir (FHIR R4 Patient resources, NDJSON)")
	out := fs.String("out", "", "write to this file instead of standard output")
	if _, err := parse(fs, args, 0, 0, "no arguments besides --format and --out"); err != nil {
		return err
	}
	if *format != "csv" && *format != "fhir" {
		return usagef("--format must be csv or fhir")
	}
	d, err := c.open(ctx)
	if err != nil {
		return err
	}
	if *out == "" {
		return d.Export(ctx, c.stdout, *format)
	}
	return writeAtomically(*out, func(w io.Writer) error { return d.Export(ctx, w, *format) })
}

// writeAtomically writes a file through a temporary one renamed into place,
// so an interrupted export never leaves half a file under the real name.
func writeAtomically(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ptdesk-export-*")
	if err != nil {
		return core.Errorf(core.EINVALID, "out", "Could not write %s: %v.", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
