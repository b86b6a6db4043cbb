// Command ptdeskbench measures PT Desk on this machine and writes the
// results into docs/benchmarks.md, one section per area. Each section lives
// between <!-- section:NAME --> and <!-- /section:NAME --> markers and is
// replaced on its own, so an area can be measured again without rerunning
// the others:
//
//	go run ./cmd/ptdeskbench -only search
//	go run ./cmd/ptdeskbench -only search -sizes 100000
//
// To add an area, write a function that prints a markdown section and add
// it to sections below.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// options are the command line settings every section may read.
type options struct {
	// sizes are the directory sizes to measure, in patients.
	sizes []int
	// queries is the number of different queries measured per kind.
	queries int
	// seed makes the generated data and the queries repeatable.
	seed uint64
	// log receives progress lines (stderr), never the results.
	log io.Writer
}

// section is one area of docs/benchmarks.md.
type section struct {
	name string
	run  func(ctx context.Context, w io.Writer) error
}

// sections lists every area, in the order they appear in a new file.
func sections(o options) []section {
	return []section{
		{name: "search", run: func(ctx context.Context, w io.Writer) error { return searchSection(ctx, w, o) }},
		{name: "launch", run: func(ctx context.Context, w io.Writer) error { return launchSection(ctx, w, o) }},
		{name: "import", run: func(ctx context.Context, w io.Writer) error { return importSection(ctx, w, o) }},
		{name: "ui", run: func(ctx context.Context, w io.Writer) error { return uiSection(ctx, w, o) }},
		{name: "webhook", run: func(ctx context.Context, w io.Writer) error { return webhookSection(ctx, w, o) }},
		{name: "postgres", run: func(ctx context.Context, w io.Writer) error { return postgresSection(ctx, w, o) }},
	}
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ptdeskbench:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("ptdeskbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	only := fs.String("only", "", "comma-separated sections to run (default: all)")
	out := fs.String("out", filepath.Join("docs", "benchmarks.md"), "markdown file to update")
	sizes := fs.String("sizes", "100000,1000000", "comma-separated directory sizes, in patients")
	queries := fs.Int("queries", 300, "different queries measured per kind")
	seed := fs.Uint64("seed", 1, "seed for the generated data and queries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := options{queries: *queries, seed: *seed, log: stderr}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-sizes: %q is not a positive number", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.queries <= 0 {
		return errors.New("-queries must be positive")
	}

	all := sections(o)
	var chosen []section
	if *only == "" {
		chosen = all
	} else {
		for _, name := range strings.Split(*only, ",") {
			found := false
			for _, s := range all {
				if s.name == strings.TrimSpace(name) {
					chosen = append(chosen, s)
					found = true
				}
			}
			if !found {
				var names []string
				for _, s := range all {
					names = append(names, s.name)
				}
				return fmt.Errorf("-only: no section %q (there are: %s)", name, strings.Join(names, ", "))
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env := machine()
	for _, s := range chosen {
		fmt.Fprintf(stderr, "section %s\n", s.name)
		var body bytes.Buffer
		fmt.Fprintf(&body, "_Measured %s with %s on %s (%d cores, load average %s at the start)._\n\n",
			env.date, env.goVersion, env.cpu, env.cores, loadAverage())
		if err := s.run(ctx, &body); err != nil {
			return fmt.Errorf("section %s: %w", s.name, err)
		}
		if err := updateFile(*out, env, s.name, body.String()); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote section %s to %s\n", s.name, *out)
	}
	return nil
}

// environment describes the machine the figures come from.
type environment struct {
	date, goVersion, cpu string
	cores                int
}

func machine() environment {
	return environment{
		date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		goVersion: runtime.Version(),
		cpu:       cpuModel(),
		cores:     runtime.NumCPU(),
	}
}

// cpuModel reads the processor's name from /proc/cpuinfo (Linux).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// loadAverage is the one-minute load average (Linux), which says how much
// other work shared the machine with the measurement.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

const fileTitle = "# PT Desk benchmarks\n\nProduced by `go run ./cmd/ptdeskbench`; each section is rewritten on its own (`-only NAME`).\n"

// updateFile replaces the header and section name's markers' contents in
// path with body (adding them when missing), keeping everything else.
func updateFile(path string, env environment, name, body string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	doc := string(old)
	if strings.TrimSpace(doc) == "" {
		doc = fileTitle
	}
	header := fmt.Sprintf("Last run: %s, %s, %s, %d cores.\n", env.date, env.goVersion, env.cpu, env.cores)
	doc = replaceSection(doc, "header", header)
	doc = replaceSection(doc, name, body)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// replaceSection puts body between the markers of section name, appending
// the markers at the end of doc when it has none.
func replaceSection(doc, name, body string) string {
	begin, end := "<!-- section:"+name+" -->", "<!-- /section:"+name+" -->"
	block := begin + "\n" + strings.TrimRight(body, "\n") + "\n" + end
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i >= 0 && j > i {
		return doc[:i] + block + doc[j+len(end):]
	}
	return strings.TrimRight(doc, "\n") + "\n\n" + block + "\n"
}
