package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The import is measured as a clinic runs it: `ptdeskctl patients import`,
// built from this tree, in a process of its own, so that its time and peak
// memory are the command's and nothing else's.

// buildCtl builds ptdeskctl into dir and returns its path.
func buildCtl(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", err
	}
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator), "./cmd/ptdeskctl").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build ptdeskctl: %v\n%s", err, out)
	}
	name := "ptdeskctl"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(bin, name), nil
}

// ctl runs ptdeskctl on the data directory home and returns its figures.
func ctl(ctx context.Context, bin, home string, args ...string) (processFigures, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"--home", home}, args...)...)
	cmd.Env = append(os.Environ(), "PTDESK_DB=")
	return measureProcess(cmd)
}

// importCounts reads the summary line ptdeskctl prints at the end of an
// import ("Imported N rows: A added, U updated, S skipped ..., I invalid.").
func importCounts(stdout []byte) (added, invalid int, err error) {
	for _, line := range strings.Split(string(stdout), "\n") {
		if !strings.HasPrefix(line, "Imported ") {
			continue
		}
		var rows, updated, skipped int
		if _, err := fmt.Sscanf(line, "Imported %d rows: %d added, %d updated, %d skipped as possible duplicates, %d invalid.",
			&rows, &added, &updated, &skipped, &invalid); err != nil {
			return 0, 0, fmt.Errorf("read %q: %w", line, err)
		}
		return added, invalid, nil
	}
	return 0, 0, fmt.Errorf("no summary line in %q", stdout)
}

// importRun imports csvPath with ptdeskctl into a new data directory and
// checks the import found every row and search finds probe at once.
func importRun(ctx context.Context, bin, dir, csvPath, probe string, n int) (processFigures, error) {
	home := filepath.Join(dir, fmt.Sprintf("home-%d", n))
	if _, err := ctl(ctx, bin, home, "config", "set", "phone-region", "GB"); err != nil {
		return processFigures{}, err
	}
	pt, err := ctl(ctx, bin, home, "patients", "import", csvPath)
	if err != nil {
		return processFigures{}, err
	}
	added, invalid, err := importCounts(pt.stdout)
	if err != nil {
		return processFigures{}, err
	}
	found, err := ctl(ctx, bin, home, "patients", "search", "--json", probe)
	if err != nil {
		return processFigures{}, err
	}
	var hits []json.RawMessage
	if err := json.Unmarshal(found.stdout, &hits); err != nil {
		return processFigures{}, fmt.Errorf("read the search after the import: %w", err)
	}
	if added != n || len(hits) == 0 {
		return processFigures{}, fmt.Errorf("import %d rows: added %d (invalid %d), search %q found %d: the figures would not be about a full import",
			n, added, invalid, probe, len(hits))
	}
	return pt, nil
}

// importSection measures importing o.sizes generated rows.
func importSection(ctx context.Context, w io.Writer, o options) error {
	fmt.Fprintf(w, "Importing a generated PMS export (CSV: Patient ID, First Name, Last Name, "+
		"Date of Birth as DD/MM/YYYY, Gender, Email, and Mobile on 70%% of rows; seed %d) into a new, "+
		"empty directory with `ptdeskctl patients import FILE` (phone region GB): one transaction, every row "+
		"checked with the patient rules (phone numbers parsed to E.164), the search index built by the commit, and "+
		"a `ptdeskctl patients search` afterwards that must find the patients. Baseline: the `sqlite3` shell "+
		"loading the same file with `.import --csv` into a plain table without indexes. Each runs in its own "+
		"process; time is the process's wall-clock time (for ptdeskctl, from start to exit: opening the "+
		"directory, reading the file, checking, writing and indexing).\n\n", o.seed)
	dir, err := os.MkdirTemp("", "ptdeskbench-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		return fmt.Errorf("the baseline needs the sqlite3 shell: %w", err)
	}
	fmt.Fprintf(o.log, "import: building ptdeskctl\n")
	bin, err := buildCtl(ctx, dir)
	if err != nil {
		return err
	}

	// The same command importing one row: what the program costs at rest.
	restCSV := filepath.Join(dir, "one.csv")
	if _, err := writeImportCSV(restCSV, 1, o.seed); err != nil {
		return err
	}
	rest, err := importRun(ctx, bin, dir, restCSV, "p", 1)
	if err != nil {
		return fmt.Errorf("import one row: %w", err)
	}
	fmt.Fprintf(w, "Importing a single row, `ptdeskctl` peaks at %s: the program's own cost, included in the peaks below. "+
		"Peak memory is each process's high-water mark of resident memory (VmHWM), polled every 5 ms while it runs.\n\n", importMB(rest.maxRSS))

	fmt.Fprintln(w, "| rows | file | PT Desk import | peak memory | sqlite3 `.import` | peak memory | PT Desk / sqlite3 |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	var checks []string
	for _, n := range o.sizes {
		csvPath := filepath.Join(dir, fmt.Sprintf("patients-%d.csv", n))
		fmt.Fprintf(o.log, "import: writing %d rows\n", n)
		probe, err := writeImportCSV(csvPath, n, o.seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.log, "import: PT Desk, %d rows\n", n)
		pt, err := importRun(ctx, bin, dir, csvPath, probe, n)
		if err != nil {
			return fmt.Errorf("import %d rows: %w", n, err)
		}

		fmt.Fprintf(o.log, "import: sqlite3 baseline, %d rows\n", n)
		base := exec.CommandContext(ctx, sqlite3, filepath.Join(dir, fmt.Sprintf("baseline-%d.db", n)),
			".import --csv "+csvPath+" patients")
		bl, err := measureProcess(base)
		if err != nil {
			return fmt.Errorf("sqlite3 baseline %d rows: %w", n, err)
		}
		ratio := pt.wall.Seconds() / bl.wall.Seconds()
		fmt.Fprintf(w, "| %s | %s | %.2f s | %s | %.2f s | %s | %.1f× |\n",
			thousands(n), importMB(fileSize(csvPath)), pt.wall.Seconds(), importMB(pt.maxRSS),
			bl.wall.Seconds(), importMB(bl.maxRSS), ratio)

		if n == 100_000 {
			checks = append(checks,
				fmt.Sprintf("100,000 rows in ≤ 3 s with the search index built: %.2f s, %s", pt.wall.Seconds(), importVerdict(pt.wall <= 3*time.Second)),
				fmt.Sprintf("100,000 rows within 10× of the sqlite3 baseline: %.1f×, %s", ratio, importVerdict(ratio <= 10)))
		}
		if n == 1_000_000 {
			checks = append(checks,
				fmt.Sprintf("≤ 150 MB peak memory at 1,000,000 rows: %s, %s", importMB(pt.maxRSS), importVerdict(pt.maxRSS > 0 && pt.maxRSS <= 150<<20)))
		}
		os.Remove(csvPath)
	}
	if len(checks) > 0 {
		fmt.Fprintf(w, "\nTargets:\n\n")
		for _, c := range checks {
			fmt.Fprintf(w, "- %s\n", c)
		}
	}
	return nil
}

// writeImportCSV writes n patients the way a PMS exports them and returns a
// search that finds some of them.
func writeImportCSV(path string, n int, seed uint64) (probe string, err error) {
	first := []string{"Anne", "Bob", "Chloé", "David", "Emma", "François", "Grace", "Hiro", "Ingrid", "Jamal",
		"Katarzyna", "Liam", "María", "Noah", "Olivia", "Pål", "Quinn", "Rosa", "Søren", "Tomás", "Uma", "Victor",
		"Wei", "Ximena", "Yusuf", "Zoë", "Aoife", "Björn", "Carmen", "Dmitri"}
	last := []string{"Smith", "Jones", "Müller", "García", "Nguyen", "O'Brien", "Kowalski", "Rossi", "Dubois",
		"Andersson", "Tanaka", "Okafor", "van der Berg", "Fernández", "Novak", "Schmidt", "Brown", "Ødegaard",
		"Silva", "Kim", "Patel", "Cohen", "Murphy", "Larsen", "Horváth", "Yılmaz", "Costa", "Walsh", "Lindqvist", "Nowak"}
	genders := []string{"F", "M", "O", ""}
	rng := rand.New(rand.NewPCG(seed, 5))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(bw, "Patient ID,First Name,Last Name,Date of Birth,Gender,Email,Mobile")
	for i := 1; i <= n; i++ {
		fn, ln := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		mobile := ""
		if rng.IntN(10) < 7 {
			mobile = fmt.Sprintf("+447912%06d", rng.IntN(1_000_000))
		}
		email := strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(fmt.Sprintf("p%d.%s@example.org", i, ln)))
		fmt.Fprintf(bw, "P%07d,%s,%s,%02d/%02d/%d,%s,%s,%s\n", i, fn, importQuote(ln),
			1+rng.IntN(28), 1+rng.IntN(12), 1930+rng.IntN(90), genders[rng.IntN(len(genders))], email, mobile)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return "kowal", f.Close()
}

// importQuote quotes a CSV field when it needs it.
func importQuote(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// processFigures are what one measured process cost.
type processFigures struct {
	wall   time.Duration
	maxRSS int64 // bytes; -1 when the system does not say
	stdout []byte
}

// measureProcess runs cmd to the end and reads its peak memory.
//
// The kernel's own figure, the maximum resident set size of wait4's
// resource usage, is no use here: a Go program starts its children sharing
// its memory until they exec, and Linux counts the parent's resident set
// into the child's maximum at the exec, so every child would report at
// least the bench's own size. The peak is read instead from the child's
// VmHWM (the high-water mark of its own resident memory, after the exec),
// polled every few milliseconds while it runs (a high-water mark only
// grows, so the last reading is at most a few milliseconds' growth short).
func measureProcess(cmd *exec.Cmd) (processFigures, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return processFigures{}, fmt.Errorf("%s: %w", filepath.Base(cmd.Path), err)
	}
	peak := int64(-1)
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(status); err == nil {
				if hwm := statusHWM(b); hwm > peak {
					peak = hwm
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	<-polled
	if err != nil {
		return processFigures{}, fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.TrimSpace(stderr.String()))
	}
	return processFigures{wall: wall, maxRSS: peak, stdout: stdout.Bytes()}, nil
}

// statusHWM reads VmHWM, in bytes, from the text of a /proc/PID/status
// file; -1 if it has none (a process that has just exited, say).
func statusHWM(status []byte) int64 {
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb * 1024
		}
	}
	return -1
}

func importMB(b int64) string {
	if b < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

func importVerdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**NOT met**"
}
