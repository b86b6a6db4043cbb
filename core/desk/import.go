package desk

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"ptdesk/core"
	"ptdesk/core/importer"
	"ptdesk/core/phone"
)

// ImportOptions say how to read an import file and what to do with it.
type ImportOptions struct {
	// Format is "csv", "fhir", or "" / "auto" to tell by the content.
	Format string
	// Mapping overrides the automatic column mapping of a CSV file: header
	// to field (id, first_name, last_name, birth_date, birth_year, gender,
	// email, mobile_phone, diagnosis_code; "" or "-" leaves a column out).
	// ParseImportMapping reads the command line form.
	Mapping map[string]string
	// DateOrder is "dmy" or "mdy" for dates like 03/04/1980; empty means
	// the clinic's setting, else the default of its phone region.
	DateOrder string
	// DryRun reads and checks everything, against the directory as it is,
	// and reports what would happen without writing anything.
	DryRun bool
	// Force imports rows that look like a patient already in the directory
	// (same first name, last name and birth year, no id) as new patients.
	Force bool
	// IdentifierSystem is the FHIR identifier system holding the clinic's
	// patient ids; empty means PT Desk's own (urn:ptdesk:patient-id).
	IdentifierSystem string
	// Size is the file's size in bytes, if known, for progress.
	Size int64
	// Progress, if set, is called every few hundred rows and once at the
	// end, on the importing goroutine. Cancelling the context from it stops
	// the import with nothing written.
	Progress func(ImportProgress)
	// Errors, if set, receives the rejected rows (invalid ones and skipped
	// possible duplicates) as a CSV: "row" and "error" columns, then the
	// file's own header and the row as it was read (for FHIR, the values
	// read). The two columns come first so that a row longer or shorter
	// than the header stays under the right headings. It is UTF-8 with a
	// byte order mark, which spreadsheet programs need to show accents.
	// Once fixed, the file imports like the original (the two extra columns
	// are ignored). Nothing is written when no row is rejected.
	Errors io.Writer
	// MaxProblems caps the rejected rows whose problems ImportReport.Problems
	// lists; 0 means DefaultMaxProblems.
	MaxProblems int
}

// DefaultMaxProblems is how many rejected rows a report lists the problems
// of: enough to see what is wrong with a file, while the rest go to the
// error CSV so that a million bad rows do not fill memory.
const DefaultMaxProblems = 100

// progressEvery is how many rows pass between two progress calls.
const progressEvery = 500

// ImportProgress is how far an import has come.
type ImportProgress struct {
	Rows  int   // records read so far
	Bytes int64 // bytes of the file read so far
	Size  int64 // the file's size, 0 when unknown
	// What happened to the rows so far; see ImportReport.
	Added, Updated, Skipped, Invalid int
}

// Percent is the share of the file read, from 0 to 100, or -1 when the size
// is unknown.
func (p ImportProgress) Percent() float64 {
	if p.Size <= 0 {
		return -1
	}
	return min(100, 100*float64(p.Bytes)/float64(p.Size))
}

// ImportProblem is one rejected row.
type ImportProblem struct {
	Row    int    // line of the file where the row starts
	Field  string // the field at fault (first_name, birth_year, ...), "" for the whole row
	Reason string // one sentence saying what is wrong and what to do
}

// ImportColumn is one column of the file and the field it fills.
type ImportColumn struct {
	Header string
	Field  string // "" when the column is not imported
}

// ImportReport is what an import did (or, in a dry run, would do).
type ImportReport struct {
	// What was detected: "csv" or "fhir"; the encoding; for CSV the
	// delimiter ("comma", "semicolon" or "tab") and the column mapping.
	Format    string
	Encoding  string
	Delimiter string
	DateOrder string
	Columns   []ImportColumn
	// Ignored are the headers of columns not imported (an "archived"
	// column among them: an import never archives).
	Ignored []string
	DryRun  bool

	// Rows counts the records read (blank lines not counted). Each ends up
	// in exactly one of the four counts below.
	Rows int
	// Added are new patients; Updated are rows whose id was already in the
	// directory, the patient's fields replaced by the row's (columns the
	// file lacks are kept as stored; a row that changes nothing counts
	// here too); Skipped are rows without an id that
	// look like a patient already there (same names and birth year) and
	// were not forced; Invalid rows broke a rule and were not imported.
	Added, Updated, Skipped, Invalid int
	// Problems are those of the first MaxProblems skipped or invalid rows,
	// every problem of each (one per field at fault); MoreProblems counts
	// the rejected rows after those (all of them are in the error CSV,
	// each with its problems).
	Problems     []ImportProblem
	MoreProblems int
}

// Summary is the one line the command line prints at the end.
func (r *ImportReport) Summary() string {
	counts := fmt.Sprintf("%d added, %d updated, %d skipped as possible duplicates, %d invalid",
		r.Added, r.Updated, r.Skipped, r.Invalid)
	if r.DryRun {
		return fmt.Sprintf("Dry run, nothing written: of %d rows, %s.", r.Rows, counts)
	}
	return fmt.Sprintf("Imported %d rows: %s.", r.Rows, counts)
}

// ParseImportMapping reads a mapping as typed on the command line:
// "Given=first_name,DOB=birth_date" (see ImportOptions.Mapping).
func ParseImportMapping(s string) (map[string]string, error) {
	return importer.ParseMapping(s)
}

// Import reads a patient list exported from another system and brings it
// into the directory in one transaction: all of it or, on a failure or a
// cancel, none of it.
//
// Rows are checked with the same rules as a patient typed in. A row whose id
// is in the directory updates that patient (the id stays, as Physitrack
// links on it); a row without an id becomes a new patient with a new id,
// unless a patient with the same first name, last name and birth year is
// already there (or earlier in the file): then it is skipped as a possible
// duplicate, unless opts.Force. An id that comes up a second time in the
// same file (or is the id just given to an earlier row) is refused as
// invalid rather than applied twice, so two different people sharing an id
// never silently become one; the row goes to the error CSV, and importing it
// from there after checking updates the first.
//
// Memory stays flat: rows are streamed, and per imported row only a 64-bit
// hash of its id and its row number are kept, to find those repeated ids.
func (d *Desk) Import(ctx context.Context, r io.Reader, opts ImportOptions) (*ImportReport, error) {
	settings, err := d.store.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("import: read settings: %w", err)
	}
	iopts, err := importerOptions(opts, settings)
	if err != nil {
		return nil, err
	}
	rd, err := importer.NewReader(r, iopts)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	run := &importRun{
		d:        d,
		opts:     opts,
		rd:       rd,
		info:     rd.Info(),
		norm:     phone.Normalizer(settings.PhoneRegion),
		seen:     newImportedIDs(),
		report:   newReport(rd.Info(), iopts.DateOrder, opts.DryRun),
		maxProbs: opts.MaxProblems,
	}
	if run.maxProbs <= 0 {
		run.maxProbs = DefaultMaxProblems
	}
	if opts.Errors != nil {
		run.errs = csv.NewWriter(opts.Errors)
	}

	tx, err := d.store.BeginImport(ctx)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	run.tx = tx
	committed := false
	defer func() {
		if !committed {
			if err := tx.Rollback(); err != nil {
				d.log.Error("import: roll back", "err", err)
			}
		}
	}()
	// Into an empty directory no row can update a stored patient, so the
	// lookups that keep unprovided fields are skipped. The count is taken
	// once the import has begun (and, with SQLite, holds the write lock).
	n, err := d.store.CountPatients(ctx)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	run.emptyAtStart = n == 0

	if err := run.rows(ctx); err != nil {
		return nil, err
	}
	if err := run.flushErrors(); err != nil {
		return nil, err
	}
	if opts.DryRun {
		if err := tx.Rollback(); err != nil {
			return nil, fmt.Errorf("import: end dry run: %w", err)
		}
	} else if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("import: nothing was imported: %w", err)
	}
	committed = true
	run.progress()
	if !opts.DryRun {
		rep := run.report
		d.log.Info("import", "rows", rep.Rows, "added", rep.Added, "updated", rep.Updated, "skipped", rep.Skipped, "invalid", rep.Invalid)
		d.audit(ctx, "import", "", "")
	}
	return run.report, nil
}

// importerOptions turns the desk's options into the reader's, with the date
// order from the options, else the settings, else the phone region.
func importerOptions(opts ImportOptions, s core.Settings) (importer.Options, error) {
	format, err := importer.ParseFormat(opts.Format)
	if err != nil {
		return importer.Options{}, err
	}
	order, err := importer.ParseDateOrder(opts.DateOrder)
	if err != nil {
		return importer.Options{}, err
	}
	if order == "" {
		if order, err = importer.ParseDateOrder(s.DateOrder); err != nil {
			return importer.Options{}, err
		}
	}
	if order == "" {
		order = importer.DefaultDateOrder(s.PhoneRegion)
	}
	return importer.Options{
		Format:           format,
		Mapping:          importer.Mapping(opts.Mapping),
		DateOrder:        order,
		IdentifierSystem: opts.IdentifierSystem,
	}, nil
}

func newReport(info importer.Info, order importer.DateOrder, dryRun bool) *ImportReport {
	rep := &ImportReport{
		Format:    string(info.Format),
		Encoding:  info.Encoding,
		Delimiter: delimiterName(info.Delimiter),
		Ignored:   info.Ignored,
		DryRun:    dryRun,
	}
	if info.Format == importer.FormatCSV {
		rep.DateOrder = string(order)
		for _, c := range info.Columns {
			rep.Columns = append(rep.Columns, ImportColumn{Header: c.Header, Field: c.Field})
		}
	}
	return rep
}

func delimiterName(r rune) string {
	switch r {
	case ',':
		return "comma"
	case ';':
		return "semicolon"
	case '\t':
		return "tab"
	case 0:
		return ""
	}
	return string(r)
}

// importRun is one import in progress.
type importRun struct {
	d        *Desk
	opts     ImportOptions
	rd       *importer.Reader
	info     importer.Info
	norm     core.PhoneNormalizer
	tx       core.PatientImport
	report   *ImportReport
	maxProbs int
	// rowsShown counts the rejected rows whose problems are in the report.
	rowsShown int
	errs      *csv.Writer
	// seen holds every id imported so far, to refuse an id used twice.
	seen *importedIDs
	// emptyAtStart: the directory had no patient when the import began.
	emptyAtStart bool
	// bytes of the file read up to the row being stored, for progress.
	bytes int64
}

// importBatch is how many prepared rows travel together from the reading
// goroutine to the storing one.
const importBatch = 256

// preparedRow is a row read, completed and checked, ready to be stored.
type preparedRow struct {
	number int
	raw    []string
	p      core.Patient
	causes []error // why the row is rejected, every problem; none when it is valid
	bytes  int64   // bytes of the file read when the row was
}

// preparedBatch is rows in file order, then possibly the error that ended
// the reading.
type preparedBatch struct {
	rows []preparedRow
	err  error
}

// rows imports row after row until the end of the file; any error it
// returns leaves the transaction to be rolled back.
//
// Reading and checking a row (above all parsing its phone number) does not
// depend on the directory, so it runs on its own goroutine, a few batches
// ahead of the one that stores rows in order: on a machine with two cores
// the checks then cost no wall time.
func (run *importRun) rows(ctx context.Context) error {
	pctx, stop := context.WithCancel(ctx)
	batches := make(chan preparedBatch, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		run.prepare(pctx, batches)
	}()
	defer func() {
		stop()
		for range batches {
		}
		<-done
		run.bytes = run.rd.BytesRead()
	}()
	cancelled := func() error {
		return fmt.Errorf("import cancelled at row %d, nothing was imported: %w", run.report.Rows, ctx.Err())
	}
	for b := range batches {
		for _, pr := range b.rows {
			if ctx.Err() != nil {
				return cancelled()
			}
			run.report.Rows++
			run.bytes = pr.bytes
			if err := run.row(ctx, pr); err != nil {
				if ctx.Err() != nil {
					return cancelled()
				}
				return fmt.Errorf("import stopped at row %d, nothing was imported: %w", pr.number, err)
			}
			if run.report.Rows%progressEvery == 0 {
				run.progress()
			}
		}
		if b.err != nil {
			return fmt.Errorf("import stopped after row %d, nothing was imported: %w", run.report.Rows, b.err)
		}
	}
	// The reader stops early, without an error, only when cancelled.
	if ctx.Err() != nil {
		return cancelled()
	}
	return nil
}

// prepare reads the file and checks each row with the patient rules,
// sending batches to out, in file order, until the end of the file, an
// error, or ctx is done. It closes out.
//
// The file is read on this goroutine; the checks, which cost the most (a
// phone number takes tens of microseconds to parse and validate), run on
// one worker per core, a batch each, and the batches leave in the order
// they were read.
func (run *importRun) prepare(ctx context.Context, out chan<- preparedBatch) {
	defer close(out)
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		b    preparedBatch
		done chan struct{}
	}
	work := make(chan *job, workers)
	ordered := make(chan *job, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				j.b.rows, j.b.err = run.check(ctx, j.b.rows, j.b.err)
				close(j.done)
			}
		}()
	}
	// Sends the checked batches on in order.
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		stopped := false
		for j := range ordered {
			<-j.done
			if stopped {
				continue
			}
			select {
			case out <- j.b:
			case <-ctx.Done():
				stopped = true
			}
			if j.b.err != nil {
				stopped = true
			}
		}
	}()
	queue := func(b preparedBatch) bool {
		j := &job{b: b, done: make(chan struct{})}
		select {
		case ordered <- j:
		case <-ctx.Done():
			return false
		}
		work <- j
		return true
	}
	defer func() {
		close(ordered)
		close(work)
		wg.Wait()
		<-sent
	}()
	batch := make([]preparedRow, 0, importBatch)
	for ctx.Err() == nil {
		row, err := run.rd.Next()
		if err == io.EOF {
			if len(batch) > 0 {
				queue(preparedBatch{rows: batch})
			}
			return
		}
		if err != nil {
			queue(preparedBatch{rows: batch, err: err})
			return
		}
		batch = append(batch, preparedRow{number: row.Number, raw: append([]string(nil), row.Raw...), p: row.Patient, causes: row.Errs, bytes: run.rd.BytesRead()})
		if len(batch) == importBatch {
			if !queue(preparedBatch{rows: batch}) {
				return
			}
			batch = make([]preparedRow, 0, importBatch)
		}
	}
}

// check completes and checks the rows of a batch. err is the error that
// ended the reading after them, or nil; it is returned with the rows,
// unless a store read fails first: then the rows before the one it was
// for are returned with that error.
func (run *importRun) check(ctx context.Context, rows []preparedRow, err error) ([]preparedRow, error) {
	for i := range rows {
		pr := &rows[i]
		if len(pr.causes) > 0 {
			// Rejected already: say what else is wrong with it too.
			pr.causes = append(pr.causes, pr.p.NormalizeAll(run.d.now(), run.norm)...)
			continue
		}
		if e := run.keepUnprovided(ctx, &pr.p); e != nil {
			return rows[:i], e
		}
		pr.causes = pr.p.NormalizeAll(run.d.now(), run.norm)
	}
	return rows, err
}

// row stores one prepared row; an error is a store failure, which ends the
// import. Rows that break a rule are counted and reported instead.
func (run *importRun) row(ctx context.Context, pr preparedRow) error {
	if len(pr.causes) > 0 {
		return run.reject(pr, pr.causes, false)
	}
	p := pr.p
	if p.ID != "" {
		if first, dup := run.seen.row(p.ID); dup {
			return run.reject(pr, []error{repeatedID(p.ID, first)}, false)
		}
	} else {
		dup, err := run.tx.FindByNameYear(ctx, p.FirstName, p.LastName, p.BirthYear)
		if err != nil {
			return err
		}
		if dup != "" && !run.opts.Force {
			return run.reject(pr, []error{core.Errorf(core.ECONFLICT, "id",
				"%s (born %s) looks like patient %s already in the directory; skipped. To update that patient, put %s in the id column; to add a new patient anyway, import with force.",
				p.FullName(), yearText(p.BirthYear), dup, dup)}, true)
		}
	}
	created, err := run.tx.Upsert(ctx, &p)
	if err != nil {
		return err
	}
	run.seen.add(p.ID, pr.number)
	if created {
		run.report.Added++
	} else {
		run.report.Updated++
	}
	return nil
}

// repeatedID is the problem of a row whose id an earlier row of the file
// (first) has.
func repeatedID(id string, first int) error {
	return core.Errorf(core.EINVALID, "id",
		"Patient id %s was already imported from row %d of this file; this row was left out so that one patient is not overwritten by another. Check which row is right and import it again.", id, first)
}

// keepUnprovided fills the fields the file has no column for from the
// stored patient when the row updates one, so that importing a file without,
// say, an email column does not erase every email. The stored patient is
// read outside the import's transaction: ids repeated within the file are
// refused, so the state before the import is the right base.
func (run *importRun) keepUnprovided(ctx context.Context, p *core.Patient) error {
	id := strings.TrimSpace(p.ID)
	if run.emptyAtStart || id == "" || core.ValidatePatientID(id) != nil {
		return nil
	}
	missing := false
	for _, f := range []string{importer.FieldBirthYear, importer.FieldGender, importer.FieldEmail, importer.FieldPhone, importer.FieldDiagnosis} {
		if !run.info.Provides(f) {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	old, err := run.d.store.Patient(ctx, id)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read patient %s: %w", id, err)
	}
	if !run.info.Provides(importer.FieldBirthYear) && p.BirthYear == 0 {
		p.BirthYear = old.BirthYear
	}
	if !run.info.Provides(importer.FieldGender) && p.Gender == core.GenderUnknown {
		p.Gender = old.Gender
	}
	if !run.info.Provides(importer.FieldEmail) && p.Email == "" {
		p.Email = old.Email
	}
	if !run.info.Provides(importer.FieldPhone) && p.Phone == "" {
		p.Phone = old.Phone
	}
	if !run.info.Provides(importer.FieldDiagnosis) && p.DiagnosisCode == "" {
		p.DiagnosisCode = old.DiagnosisCode
	}
	return nil
}

// reject counts a row as invalid (or skipped), keeps the problems of the
// first rows for the report, and writes the row to the error CSV with all
// its problems.
func (run *importRun) reject(row preparedRow, causes []error, skipped bool) error {
	rep := run.report
	if skipped {
		rep.Skipped++
	} else {
		rep.Invalid++
	}
	reasons := reasonsOf(causes)
	if run.rowsShown < run.maxProbs {
		run.rowsShown++
		for i, cause := range causes {
			rep.Problems = append(rep.Problems, ImportProblem{Row: row.number, Field: core.ErrorField(cause), Reason: reasons[i]})
		}
	} else {
		rep.MoreProblems++
	}
	if run.errs == nil {
		return nil
	}
	if rep.Skipped+rep.Invalid == 1 {
		// A byte order mark, so that spreadsheet programs open the file
		// as UTF-8; the importer skips it.
		if err := run.writeBOM(); err != nil {
			return err
		}
		if err := run.errs.Write(append([]string{"row", "error"}, run.info.Header...)); err != nil {
			return fmt.Errorf("write rejected rows: %w", err)
		}
	}
	rec := make([]string, 0, 2+len(row.raw))
	rec = append(rec, strconv.Itoa(row.number), strings.Join(reasons, " "))
	rec = append(rec, row.raw...)
	if err := run.errs.Write(rec); err != nil {
		return fmt.Errorf("write rejected rows: %w", err)
	}
	return nil
}

// reasonsOf is the message of each problem.
func reasonsOf(causes []error) []string {
	reasons := make([]string, len(causes))
	for i, cause := range causes {
		reasons[i] = core.ErrorMessage(cause)
	}
	return reasons
}

func (run *importRun) writeBOM() error {
	if _, err := io.WriteString(run.opts.Errors, "\uFEFF"); err != nil {
		return fmt.Errorf("write rejected rows: %w", err)
	}
	return nil
}

func (run *importRun) flushErrors() error {
	if run.errs == nil {
		return nil
	}
	run.errs.Flush()
	if err := run.errs.Error(); err != nil {
		return fmt.Errorf("write rejected rows: %w", err)
	}
	return nil
}

func (run *importRun) progress() {
	if run.opts.Progress == nil {
		return
	}
	rep := run.report
	run.opts.Progress(ImportProgress{
		Rows: rep.Rows, Bytes: run.bytes, Size: run.opts.Size,
		Added: rep.Added, Updated: rep.Updated, Skipped: rep.Skipped, Invalid: rep.Invalid,
	})
}

func yearText(y int) string {
	if y == 0 {
		return "year unknown"
	}
	return strconv.Itoa(y)
}

// importedIDs remembers the ids an import has stored and the row each came
// from, in about 12 bytes per id: a 64-bit hash of the id (a false match
// among a million ids is about as likely as a disk error) and the row, in
// sorted arrays searched by bisection, with the latest ids in a small map
// that is merged into them whenever it fills.
type importedIDs struct {
	hashes []uint64 // sorted
	rows   []int32  // rows[i] is where hashes[i] came from
	recent map[uint64]int32
}

// recentIDs is when the map of the latest ids is merged into the arrays:
// a million ids take some sixty merges.
const recentIDs = 1 << 14

func newImportedIDs() *importedIDs {
	return &importedIDs{recent: make(map[uint64]int32, recentIDs)}
}

// row returns the row an id was imported from, if it was.
func (s *importedIDs) row(id string) (int, bool) {
	h := idHash(id)
	if r, ok := s.recent[h]; ok {
		return int(r), true
	}
	if i, ok := slices.BinarySearch(s.hashes, h); ok {
		return int(s.rows[i]), true
	}
	return 0, false
}

// add records an id that row imported; the caller has checked it is new.
func (s *importedIDs) add(id string, row int) {
	s.recent[idHash(id)] = int32(min(row, math.MaxInt32))
	if len(s.recent) >= recentIDs {
		s.merge()
	}
}

// merge moves the recent ids into the sorted arrays, merging from the back
// so that no second copy of the arrays is needed beyond their growth.
func (s *importedIDs) merge() {
	keys := slices.Sorted(maps.Keys(s.recent))
	n, m := len(s.hashes), len(keys)
	s.hashes = slices.Grow(s.hashes, m)[:n+m]
	s.rows = slices.Grow(s.rows, m)[:n+m]
	i, j := n-1, m-1
	for k := n + m - 1; j >= 0; k-- {
		if i >= 0 && s.hashes[i] > keys[j] {
			s.hashes[k], s.rows[k] = s.hashes[i], s.rows[i]
			i--
		} else {
			s.hashes[k], s.rows[k] = keys[j], s.recent[keys[j]]
			j--
		}
	}
	clear(s.recent)
}

// idHash is 64-bit FNV-1a, enough to tell a million ids apart.
func idHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// ImportPreview is what the first rows of a file would become, for the
// mapping step of the desktop app: nothing is written or checked against
// the directory.
type ImportPreview struct {
	Format    string
	Encoding  string
	Delimiter string
	DateOrder string
	Columns   []ImportColumn
	Ignored   []string
	// Header names the values of each row's Raw.
	Header []string
	Rows   []PreviewRow
}

// PreviewRow is one row of a preview.
type PreviewRow struct {
	Row     int
	Raw     []string
	Patient core.Patient // normalized when Problem is empty
	// Problem is what is wrong with the row: the first field at fault,
	// and the reasons for every one.
	Problem *ImportProblem
}

// PreviewImport reads the first n rows of a file with opts (Mapping,
// DateOrder, Format and IdentifierSystem count; the rest is ignored) and
// checks each with the patient rules and against the ids of the rows
// before it, so the user can see the detected mapping and encoding, and
// which rows the import would leave out, before importing.
func (d *Desk) PreviewImport(ctx context.Context, r io.Reader, opts ImportOptions, n int) (*ImportPreview, error) {
	settings, err := d.store.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("preview import: read settings: %w", err)
	}
	iopts, err := importerOptions(opts, settings)
	if err != nil {
		return nil, err
	}
	rd, err := importer.NewReader(r, iopts)
	if err != nil {
		return nil, fmt.Errorf("preview import: %w", err)
	}
	rep := newReport(rd.Info(), iopts.DateOrder, true)
	pv := &ImportPreview{
		Format: rep.Format, Encoding: rep.Encoding, Delimiter: rep.Delimiter, DateOrder: rep.DateOrder,
		Columns: rep.Columns, Ignored: rep.Ignored, Header: rd.Info().Header,
	}
	norm := phone.Normalizer(settings.PhoneRegion)
	firstRow := map[string]int{} // the row each valid id was first seen in
	for len(pv.Rows) < n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("preview import: %w", err)
		}
		pr := PreviewRow{Row: row.Number, Raw: append([]string(nil), row.Raw...), Patient: row.Patient}
		causes := append(row.Errs[:len(row.Errs):len(row.Errs)], pr.Patient.NormalizeAll(d.now(), norm)...)
		if id := pr.Patient.ID; len(causes) == 0 && id != "" {
			// As the import will: a later row with the same id is left out.
			if first, ok := firstRow[id]; ok {
				causes = append(causes, repeatedID(id, first))
			} else {
				firstRow[id] = row.Number
			}
		}
		if len(causes) > 0 {
			pr.Problem = &ImportProblem{Row: row.Number, Field: core.ErrorField(causes[0]), Reason: strings.Join(reasonsOf(causes), " ")}
		}
		pv.Rows = append(pv.Rows, pr)
	}
	return pv, nil
}
