package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"ptdesk/core"
	"ptdesk/core/sqlite"
)

// queryKind is one way of typing into the search box, made from a patient
// of the directory.
type queryKind struct {
	name string
	// multi marks kinds with several terms, which have their own target.
	multi bool
	make  func(p *core.Patient) string
}

var queryKinds = []queryKind{
	{name: "1-letter prefix", make: func(p *core.Patient) string { return lowerPrefix(p.LastName, 1) }},
	{name: "2-letter prefix", make: func(p *core.Patient) string { return lowerPrefix(p.LastName, 2) }},
	{name: "3-letter prefix", make: func(p *core.Patient) string { return lowerPrefix(p.LastName, 3) }},
	{name: "full last name", make: func(p *core.Patient) string { return p.LastName }},
	{name: "two prefixes (\"jo sm\")", multi: true, make: func(p *core.Patient) string {
		return lowerPrefix(p.FirstName, 2) + " " + lowerPrefix(p.LastName, 2)
	}},
	{name: "name + birth year (\"smi 1980\")", multi: true, make: func(p *core.Patient) string {
		if p.BirthYear == 0 {
			return ""
		}
		return lowerPrefix(p.LastName, 3) + " " + strconv.Itoa(p.BirthYear)
	}},
}

func lowerPrefix(s string, n int) string {
	r := []rune(strings.ToLower(s))
	return string(r[:min(n, len(r))])
}

// The targets the search must meet.
const (
	targetP99          = time.Millisecond     // every kind at 100k, one term at 1M
	targetP99MultiHuge = 5 * time.Millisecond // several terms at 1M
	targetSpeedUp      = 50.0                 // over the baseline at 100k
	targetImport100k   = 3 * time.Second      // 100,000 patients, search index included
	// baselineBudget bounds the time spent on the baseline per kind: at a
	// million patients each of its queries reads the whole table.
	baselineBudget = 15 * time.Second
	minBaseline    = 20
)

// baselineSQL is the search a first version would write: a substring LIKE
// over both names, sorted, which reads every row.
func baselineSQL(terms int) string {
	var where []string
	for i := range terms {
		where = append(where, fmt.Sprintf("(first_name LIKE ?%d OR last_name LIKE ?%d)", i+1, i+1))
	}
	return `SELECT id, first_name, last_name, birth_year, gender, email, phone, diagnosis_code, archived,
		created_at, updated_at, version FROM patients WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY last_name, first_name LIMIT 50`
}

// latency is the spread of one kind's timings.
type latency struct {
	n        int
	p50, p99 time.Duration
}

func percentiles(d []time.Duration) latency {
	slices.Sort(d)
	at := func(q float64) time.Duration {
		i := int(float64(len(d))*q+0.999999) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	return latency{n: len(d), p50: at(0.50), p99: at(0.99)}
}

func searchSection(ctx context.Context, w io.Writer, o options) error {
	fmt.Fprintf(w, "Search as you type (`SearchPatients`, SQLite store) against a baseline "+
		"`LIKE '%%q%%'` query over both names, on the same file in the same run. "+
		"Patients are generated (seed %d) with names from many languages; each kind is measured "+
		"with up to %d different queries drawn from the directory, one call each, after a warm-up with as many other queries of the kind; "+
		"speed-up is baseline p50 / PT Desk p50.\n\n", o.seed, o.queries)
	var checks []string
	for _, n := range o.sizes {
		c, err := searchSize(ctx, w, o, n)
		if err != nil {
			return err
		}
		checks = append(checks, c...)
	}
	fmt.Fprintf(w, "Targets:\n\n")
	for _, c := range checks {
		fmt.Fprintf(w, "- %s\n", c)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**NOT met**"
}

// searchSize measures one directory size and returns its target checks.
func searchSize(ctx context.Context, w io.Writer, o options, n int) ([]string, error) {
	dir, err := os.MkdirTemp("", "ptdeskbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ptdesk.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	fmt.Fprintf(o.log, "  importing %d patients\n", n)
	start := time.Now()
	sample, r, err := importSample(ctx, db, o.seed, n, 4096)
	if err != nil {
		return nil, err
	}
	importTime := time.Since(start)
	size := fileSize(path)
	fmt.Fprintf(o.log, "  imported in %v\n", importTime.Round(time.Millisecond))

	base, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=cache_size(-32768)")
	if err != nil {
		return nil, err
	}
	defer base.Close()

	type row struct {
		kind     queryKind
		pt, base latency
	}
	var rows []row
	for _, k := range queryKinds {
		// The first half warms the store up; the second is measured.
		var texts []string
		for len(texts) < 2*o.queries {
			if t := k.make(sample[r.IntN(len(sample))]); t != "" {
				texts = append(texts, t)
			}
		}
		warm, texts := texts[:o.queries], texts[o.queries:]
		fmt.Fprintf(o.log, "  %s\n", k.name)
		pt, err := timeDesk(ctx, db, warm, texts)
		if err != nil {
			return nil, err
		}
		bl, err := timeBaseline(ctx, base, texts)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{k, pt, bl})
	}

	fmt.Fprintf(w, "### %s patients\n\n", thousands(n))
	fmt.Fprintf(w, "Import (one `BeginImport` transaction, search index included): %.2f s (%s patients/s); file %.0f MB.\n\n",
		importTime.Seconds(), thousands(int(float64(n)/importTime.Seconds())), float64(size)/1e6)
	fmt.Fprintf(w, "| query kind | PT Desk p50 | PT Desk p99 | baseline p50 | baseline p99 | speed-up |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: |\n")
	var checks []string
	for _, rw := range rows {
		speed := float64(rw.base.p50) / float64(rw.pt.p50)
		baseNote := ""
		if rw.base.n < rw.pt.n {
			baseNote = fmt.Sprintf(" (%d queries)", rw.base.n)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s%s | %.0f× |\n", rw.kind.name,
			ms(rw.pt.p50), ms(rw.pt.p99), ms(rw.base.p50), ms(rw.base.p99), baseNote, speed)

		limit := targetP99
		if n >= 1_000_000 && rw.kind.multi {
			limit = targetP99MultiHuge
		}
		checks = append(checks, fmt.Sprintf("%s patients, %s: p99 %s ≤ %s: %s", thousands(n), rw.kind.name,
			ms(rw.pt.p99), ms(limit), verdict(rw.pt.p99 <= limit)))
		if n == 100_000 {
			checks = append(checks, fmt.Sprintf("%s patients, %s: %.0f× the baseline ≥ %.0f×: %s", thousands(n), rw.kind.name,
				speed, targetSpeedUp, verdict(speed >= targetSpeedUp)))
		}
	}
	fmt.Fprintln(w)
	if n == 100_000 {
		checks = append(checks, fmt.Sprintf("import of 100,000 patients %.2f s ≤ %.0f s: %s",
			importTime.Seconds(), targetImport100k.Seconds(), verdict(importTime <= targetImport100k)))
	}
	return checks, nil
}

// timeDesk times one SearchPatients call per text, after one call per warm
// text: other queries of the same kind, which prepare the statements that
// kind of query uses, as a desk's first searches after it opens do.
func timeDesk(ctx context.Context, db *sqlite.DB, warm, texts []string) (latency, error) {
	for _, t := range warm {
		if _, err := db.SearchPatients(ctx, core.PatientQuery{Text: t}); err != nil {
			return latency{}, err
		}
	}
	d := make([]time.Duration, 0, len(texts))
	for _, t := range texts {
		start := time.Now()
		if _, err := db.SearchPatients(ctx, core.PatientQuery{Text: t}); err != nil {
			return latency{}, err
		}
		d = append(d, time.Since(start))
	}
	return percentiles(d), nil
}

// timeBaseline times the baseline query per text, reading every row it
// returns, within baselineBudget.
func timeBaseline(ctx context.Context, db *sql.DB, texts []string) (latency, error) {
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	query := func(text string) error {
		terms := strings.Fields(text)
		st, ok := stmts[len(terms)]
		if !ok {
			var err error
			if st, err = db.PrepareContext(ctx, baselineSQL(len(terms))); err != nil {
				return err
			}
			stmts[len(terms)] = st
		}
		args := make([]any, len(terms))
		for i, t := range terms {
			args[i] = "%" + t + "%"
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			id, first, last, gender, email, phone, diag string
			year, archived                              int
			created, updated, version                   int64
		)
		for rows.Next() {
			if err := rows.Scan(&id, &first, &last, &year, &gender, &email, &phone, &diag, &archived, &created, &updated, &version); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if err := query(texts[0]); err != nil {
		return latency{}, err
	}
	d := make([]time.Duration, 0, len(texts))
	spent := time.Duration(0)
	for _, t := range texts {
		if len(d) >= minBaseline && spent > baselineBudget {
			break
		}
		start := time.Now()
		if err := query(t); err != nil {
			return latency{}, err
		}
		el := time.Since(start)
		spent += el
		d = append(d, el)
		if err := ctx.Err(); err != nil {
			return latency{}, err
		}
	}
	return percentiles(d), nil
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fileSize(path string) int64 {
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total
}
