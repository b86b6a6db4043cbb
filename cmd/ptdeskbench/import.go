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
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"ptdesk/core/desk"
	"ptdesk/core/secrets"
	"ptdesk/core/sqlite"
)

// The import is measured in a child process, so that its peak memory is its
// own and not the parent's (which generated the file): the bench binary runs
// itself again with importChildEnv set, and the child does nothing but the
// import. importProfileEnv and importHeapEnv, if set in the parent's
// environment, make the child write a CPU profile of the import, and a heap
// profile at its end, to those files (for `go tool pprof`).
const (
	importChildEnv   = "PTDESKBENCH_IMPORT_CHILD"
	importProfileEnv = "PTDESKBENCH_IMPORT_CPUPROFILE"
	importHeapEnv    = "PTDESKBENCH_IMPORT_HEAPPROFILE"
)

// init turns the process into the import child when the parent asked for
// one; it must run before main parses flags meant for the parent.
func init() {
	if spec := os.Getenv(importChildEnv); spec != "" {
		if err := importChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, "ptdeskbench import child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// importJob is what the parent tells the child, as JSON in importChildEnv.
type importJob struct {
	CSV         string `json:"csv"`
	DB          string `json:"db"`
	Probe       string `json:"probe"` // a search that must find patients afterwards
	Profile     string `json:"profile,omitempty"`
	HeapProfile string `json:"heap_profile,omitempty"`
}

// importResult is what the child prints on stdout.
type importResult struct {
	Rows, Added, Updated, Skipped, Invalid int
	Seconds                                float64 // the Import call alone
	ProbeHits                              int
	// GoSys is the memory the Go runtime holds at the end (its heap at
	// its largest, stacks, ...); the rest of the peak is SQLite's.
	GoSys int64
	// PeakRSS is the child's own VmHWM at the end of the import, in bytes.
	PeakRSS int64
}

func importChild(spec string) error {
	var job importJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		return fmt.Errorf("read job: %w", err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, job.DB)
	if err != nil {
		return err
	}
	d := desk.New(desk.Options{Store: db, Secrets: secrets.NewMemory(), DeskUser: "bench"})
	defer d.Close()
	if err := d.SetPhoneRegion(ctx, "GB"); err != nil {
		return err
	}
	f, err := os.Open(job.CSV)
	if err != nil {
		return err
	}
	defer f.Close()
	if job.Profile != "" {
		pf, err := os.Create(job.Profile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	rep, err := d.Import(ctx, f, desk.ImportOptions{})
	if err != nil {
		return err
	}
	res := importResult{Rows: rep.Rows, Added: rep.Added, Updated: rep.Updated, Skipped: rep.Skipped, Invalid: rep.Invalid,
		Seconds: time.Since(start).Seconds()}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.GoSys = int64(ms.Sys)
	res.PeakRSS = selfHWM()
	if job.HeapProfile != "" {
		if err := writeHeapProfile(job.HeapProfile); err != nil {
			return err
		}
	}
	hits, err := d.Search(ctx, job.Probe, 0)
	if err != nil {
		return err
	}
	res.ProbeHits = len(hits)
	return json.NewEncoder(os.Stdout).Encode(res)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// importSection measures importing o.sizes generated rows.
func importSection(ctx context.Context, w io.Writer, o options) error {
	fmt.Fprintf(w, "Importing a generated PMS export (CSV: Patient ID, First Name, Last Name, "+
		"Date of Birth as DD/MM/YYYY, Gender, Email, and Mobile on 70%% of rows; seed %d) into a new, "+
		"empty directory with `desk.Import`: one transaction, every row checked with the patient rules "+
		"(phone numbers parsed to E.164), the search index built by the commit and probed with a search "+
		"afterwards. Baseline: the `sqlite3` shell loading the same file with `.import --csv` into a plain "+
		"table without indexes. Each runs in its own process; time is the process's wall-clock time, "+
		"peak memory its maximum resident set size.\n\n", o.seed)
	dir, err := os.MkdirTemp("", "ptdeskbench-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the bench binary: %w", err)
	}
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		return fmt.Errorf("the baseline needs the sqlite3 shell: %w", err)
	}

	// The same child importing one row: what the program costs at rest.
	restCSV := filepath.Join(dir, "one.csv")
	if _, err := writeImportCSV(restCSV, 1, o.seed); err != nil {
		return err
	}
	rest, _, err := runImportChild(ctx, self, importJob{CSV: restCSV, DB: filepath.Join(dir, "desk-1", "ptdesk.db"), Probe: "p"})
	if err != nil {
		return fmt.Errorf("import one row: %w", err)
	}
	fmt.Fprintf(w, "Importing a single row, the child peaks at %s: the program's own cost, included in the peaks below. "+
		"Peak memory is each process's high-water mark of resident memory (VmHWM), read by the child itself at its end "+
		"and, for the sqlite3 shell, polled every 5 ms. \"Go\" is what the Go runtime held at the end; the rest "+
		"of a peak is mostly SQLite's memory and the program's code.\n\n", importMB(rest.maxRSS))

	fmt.Fprintln(w, "| rows | file | PT Desk import | of which Import call | peak memory (Go) | sqlite3 `.import` | peak memory | PT Desk / sqlite3 |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	var checks []string
	for _, n := range o.sizes {
		csvPath := filepath.Join(dir, fmt.Sprintf("patients-%d.csv", n))
		fmt.Fprintf(o.log, "import: writing %d rows\n", n)
		probe, err := writeImportCSV(csvPath, n, o.seed)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.log, "import: PT Desk, %d rows\n", n)
		pt, res, err := runImportChild(ctx, self, importJob{CSV: csvPath, DB: filepath.Join(dir, fmt.Sprintf("desk-%d", n), "ptdesk.db"),
			Probe: probe, Profile: os.Getenv(importProfileEnv), HeapProfile: os.Getenv(importHeapEnv)})
		if err != nil {
			return fmt.Errorf("import %d rows: %w", n, err)
		}
		if res.Added != n || res.ProbeHits == 0 {
			return fmt.Errorf("import %d rows: added %d (invalid %d), search %q found %d: the figures would not be about a full import",
				n, res.Added, res.Invalid, probe, res.ProbeHits)
		}

		fmt.Fprintf(o.log, "import: sqlite3 baseline, %d rows\n", n)
		base := exec.CommandContext(ctx, sqlite3, filepath.Join(dir, fmt.Sprintf("baseline-%d.db", n)),
			".import --csv "+csvPath+" patients")
		bl, err := measureProcess(base)
		if err != nil {
			return fmt.Errorf("sqlite3 baseline %d rows: %w", n, err)
		}
		ratio := pt.wall.Seconds() / bl.wall.Seconds()
		fmt.Fprintf(w, "| %s | %s | %.2f s | %.2f s | %s (%s) | %.2f s | %s | %.1f× |\n",
			thousands(n), importMB(fileSize(csvPath)), pt.wall.Seconds(), res.Seconds, importMB(pt.maxRSS), importMB(res.GoSys),
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

// runImportChild imports job in a child process and returns what it cost
// and what it reported.
func runImportChild(ctx context.Context, self string, job importJob) (processFigures, importResult, error) {
	spec, err := json.Marshal(job)
	if err != nil {
		return processFigures{}, importResult{}, err
	}
	child := exec.CommandContext(ctx, self)
	child.Env = append(os.Environ(), importChildEnv+"="+string(spec))
	pt, err := measureProcess(child)
	if err != nil {
		return processFigures{}, importResult{}, err
	}
	var res importResult
	if err := json.Unmarshal(pt.stdout, &res); err != nil {
		return processFigures{}, importResult{}, fmt.Errorf("child said %q: %w", pt.stdout, err)
	}
	pt.maxRSS = max(pt.maxRSS, res.PeakRSS)
	return pt, res, nil
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
// polled every few milliseconds while it runs; a child that reports its
// own VmHWM at its end (the import child does) gives the exact figure.
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

// selfHWM is this process's peak resident memory so far, in bytes, or -1
// where the system does not say.
func selfHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	return statusHWM(b)
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
