package desk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"ptdesk/core"
	"ptdesk/core/postgres"
	"ptdesk/core/sqlite"
)

// MigrateOptions say which desk directory moves into which clinic database.
type MigrateOptions struct {
	// From is the desk's SQLite store: "sqlite:PATH", PATH a file or a data
	// directory (see ParseDatabase).
	From string
	// To is the clinic's PostgreSQL database (a postgres:// URL).
	To string
	// Merge adds to a database that already holds a directory; without
	// it such a database is refused. Patients and practitioners whose ids
	// (or names, or keys) the database already has are reported as clashes
	// and left out, never overwritten.
	Merge bool
	// Secrets is this computer's keyring. When merging (the database keeps
	// its own store id) the practitioners' keys and the webhook secret
	// this keyring holds for the desk's directory are copied to the
	// database's scope. nil copies none.
	Secrets core.SecretStore
	// Progress receives a line now and then about what is being copied;
	// nil discards.
	Progress io.Writer
}

// MigrateReport says what a migration copied, and what it left out.
type MigrateReport struct {
	Patients      int `json:"patients"`
	Practitioners int `json:"practitioners"`
	Keys          int `json:"keys"`
	Recents       int `json:"recents"`
	Audit         int `json:"audit"`
	Events        int `json:"webhook_events"`
	Programs      int `json:"programs"`
	// Clashes lists what was left out, one sentence each.
	Clashes []string `json:"clashes,omitempty"`
	// Checksums are the SHA-256 of what was copied, per kind, computed
	// from the desk's store and again from the database before committing
	// (they matched, or nothing was committed).
	Checksums map[string]string `json:"checksums"`
	// StoreID is the database's directory id: the desk's when the
	// database was empty (so every keyring entry keeps working).
	StoreID string `json:"store_id"`
	// KeysMoved counts keyring entries copied to the database's scope.
	KeysMoved int `json:"keyring_entries_moved,omitempty"`
}

// migrateBatch is the number of patients copied per statement.
const migrateBatch = 2000

// Migrate copies a desk's directory (patients with their ids, practitioners
// with current and retired key hashes, recents, the audit log, program
// webhooks and programs, the PDFs read into the database) into a clinic's
// PostgreSQL database, in one transaction: it checks the counts and
// checksums of what it copied before committing, so the database gets all
// of it or none. The desk's store is only read.
func Migrate(ctx context.Context, o MigrateOptions) (*MigrateReport, error) {
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	from, err := ParseDatabase(o.From, "")
	if err != nil || from.Kind != "sqlite" || o.From == "" {
		return nil, core.Errorf(core.EINVALID, "from", "Migrate from a desk's SQLite store: --from sqlite:PATH, PATH being the data directory or its %s.", DatabaseFile)
	}
	to, err := ParseDatabase(o.To, "")
	if err != nil || to.Kind != "postgres" {
		return nil, core.Errorf(core.EINVALID, "to", "Migrate to a PostgreSQL database: --to postgres://user@host:5432/clinic.")
	}
	if _, err := os.Stat(from.Path); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "from", "There is no PT Desk directory at %s; give the data directory or its %s.", from.Path, DatabaseFile)
	}
	src, err := sqlite.Open(ctx, from.Path)
	if err != nil {
		return nil, fmt.Errorf("open the desk's directory: %w", err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, to.URL)
	if err != nil {
		return nil, fmt.Errorf("open the clinic database: %w", err)
	}
	defer dst.Close()
	// What core.Store does not give and a move needs: retired key hashes
	// (late webhooks still carry them), and the recents with their times.
	history, err := src.KeyHistory(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the desk's keys: %w", err)
	}
	recents, err := src.Recents(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the desk's recents: %w", err)
	}

	t, err := dst.BeginTransfer(ctx)
	if err != nil {
		return nil, err
	}
	defer t.Rollback(context.WithoutCancel(ctx))
	m := &migration{src: src, t: t, keys: history, recents: recents, progress: progress, home: filepath.Dir(from.Path),
		report: &MigrateReport{Checksums: map[string]string{}}}
	empty, err := t.Empty(ctx)
	if err != nil {
		return nil, err
	}
	if !empty && !o.Merge {
		return nil, core.Errorf(core.ECONFLICT, "to", "The clinic database already holds a patient directory. Migrate into an empty database, or add --merge to add this desk's directory to it (ids it already has are reported and left out).")
	}
	for _, step := range []func(context.Context) error{
		func(ctx context.Context) error { return m.copySettings(ctx, empty) },
		m.copyPatients, m.copyPractitioners, m.copyRecents, m.copyAudit, m.copyPrograms,
	} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	s, err := t.Settings(ctx)
	if err != nil {
		return nil, err
	}
	m.report.StoreID = s.StoreID
	fmt.Fprintf(progress, "committing\n")
	if err := t.Commit(ctx); err != nil {
		return nil, err
	}
	// Search reads index-only once the table is vacuumed; autovacuum
	// would get there, later.
	if err := dst.Vacuum(ctx); err != nil {
		fmt.Fprintf(progress, "warning: %v\n", err)
	}
	if o.Secrets != nil && !empty {
		m.moveKeyring(ctx, o.Secrets, dst)
	}
	return m.report, nil
}

// migration is one run of Migrate.
type migration struct {
	src      *sqlite.DB
	t        *postgres.Transfer
	keys     []core.KeyRecord // every key of the desk's directory, retired too
	recents  []core.Recent
	progress io.Writer
	home     string
	report   *MigrateReport

	patients      map[string]bool // ids copied
	clashed       map[string]bool // patient ids the database had already
	practitioners map[string]bool
}

// verify fails unless what was read back from the database matches what
// was copied.
func (m *migration) verify(kind string, copied, readBack int, want, got string) error {
	if copied != readBack || want != got {
		return core.Errorf(core.EINTERNAL, "to", "The %s read back from the clinic database do not match what was copied (%d copied, %d found; checksum %s, found %s); nothing was committed.", kind, copied, readBack, short(want), short(got))
	}
	m.report.Checksums[kind] = want
	fmt.Fprintf(m.progress, "%s: %d copied, checksum %s verified\n", kind, copied, short(want))
	return nil
}

func short(sum string) string { return sum[:min(16, len(sum))] }

// checksum is a running SHA-256 of canonical JSON lines.
type checksum struct{ h []byte }

func newChecksum() *checksum { return &checksum{} }

func (c *checksum) add(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain values are checksummed
	}
	sum := sha256.Sum256(append(append(c.h, b...), '\n'))
	c.h = sum[:]
}

func (c *checksum) String() string { return hex.EncodeToString(c.h) }

// settings copies the clinic settings and the directory's id into an
// empty database; a database in use keeps its own.
func (m *migration) copySettings(ctx context.Context, empty bool) error {
	if !empty {
		return nil
	}
	s, err := m.src.Settings(ctx)
	if err != nil {
		return err
	}
	if err := m.t.SaveSettings(ctx, s); err != nil {
		return err
	}
	return m.t.AdoptStoreID(ctx, s.StoreID)
}

// patientLine is a patient as checksummed: every field, times in UTC.
func patientLine(p *core.Patient) any {
	q := *p
	q.CreatedAt, q.UpdatedAt = q.CreatedAt.UTC(), q.UpdatedAt.UTC()
	return q
}

func (m *migration) copyPatients(ctx context.Context) error {
	m.patients, m.clashed = map[string]bool{}, map[string]bool{}
	want := newChecksum()
	batch := make([]*core.Patient, 0, migrateBatch)
	flush := func() error {
		clashes, err := m.t.LoadPatients(ctx, batch)
		if err != nil {
			return err
		}
		skip := map[string]bool{}
		for _, id := range clashes {
			skip[id] = true
			m.clashed[id] = true
			m.report.Clashes = append(m.report.Clashes, fmt.Sprintf("patient %s: the clinic database already has a patient with this id", id))
		}
		for _, p := range batch {
			if !skip[p.ID] {
				m.patients[p.ID] = true
				want.add(patientLine(p))
			}
		}
		batch = batch[:0]
		fmt.Fprintf(m.progress, "patients: %d copied\n", len(m.patients))
		return nil
	}
	err := m.src.EachPatient(ctx, func(p *core.Patient) error {
		batch = append(batch, p)
		if len(batch) == migrateBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("copy patients: %w", err)
	}
	got := newChecksum()
	n := 0
	if err := m.t.EachPatient(ctx, func(p *core.Patient) error {
		if m.patients[p.ID] {
			n++
			got.add(patientLine(p))
		}
		return nil
	}); err != nil {
		return fmt.Errorf("check patients: %w", err)
	}
	m.report.Patients = len(m.patients)
	return m.verify("patients", len(m.patients), n, want.String(), got.String())
}

// practitionerLine is a practitioner as checksummed, with every key.
func practitionerLine(p *core.Practitioner, keys []core.KeyRecord) any {
	type key struct {
		Hash, Fingerprint string
		SetAt, RetiredAt  time.Time
	}
	var ks []key
	for _, k := range keys {
		ks = append(ks, key{k.LookupHash, k.Fingerprint, k.SetAt.UTC(), k.RetiredAt.UTC()})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].Hash < ks[j].Hash })
	return struct {
		ID, Name, Email, Server string
		CreatedAt               time.Time
		Keys                    []key
	}{p.ID, p.Name, p.Email, p.Server, p.CreatedAt.UTC(), ks}
}

func (m *migration) copyPractitioners(ctx context.Context) error {
	m.practitioners = map[string]bool{}
	ps, err := m.src.Practitioners(ctx)
	if err != nil {
		return fmt.Errorf("copy practitioners: %w", err)
	}
	byPractitioner := map[string][]core.KeyRecord{}
	for _, k := range m.keys {
		byPractitioner[k.PractitionerID] = append(byPractitioner[k.PractitionerID], k)
	}
	want := newChecksum()
	for _, p := range ps {
		clash, err := m.t.LoadPractitioner(ctx, p, byPractitioner[p.ID])
		if err != nil {
			return fmt.Errorf("copy practitioners: %w", err)
		}
		if clash != "" {
			m.report.Clashes = append(m.report.Clashes, clash)
			continue
		}
		m.practitioners[p.ID] = true
		m.report.Keys += len(byPractitioner[p.ID])
		want.add(practitionerLine(p, byPractitioner[p.ID]))
	}
	// Read back in the same order (the stores list by name).
	back, err := m.t.Practitioners(ctx)
	if err != nil {
		return err
	}
	history, err := m.t.KeyHistory(ctx)
	if err != nil {
		return err
	}
	backKeys := map[string][]core.KeyRecord{}
	for _, k := range history {
		backKeys[k.PractitionerID] = append(backKeys[k.PractitionerID], k)
	}
	got := newChecksum()
	n := 0
	for _, p := range back {
		if m.practitioners[p.ID] {
			n++
			got.add(practitionerLine(p, backKeys[p.ID]))
		}
	}
	m.report.Practitioners = len(m.practitioners)
	return m.verify("practitioners", len(m.practitioners), n, want.String(), got.String())
}

// recentLine is an open as checksummed.
func recentLine(r core.Recent) any {
	r.OpenedAt = r.OpenedAt.UTC()
	if r.LastSent == nil {
		r.LastSent = map[string]string{}
	}
	return r
}

func (m *migration) copyRecents(ctx context.Context) error {
	var keep []core.Recent
	for _, r := range m.recents {
		if m.practitioners[r.PractitionerID] && m.patients[r.PatientID] {
			keep = append(keep, r)
		}
	}
	loaded, err := m.t.LoadRecents(ctx, keep)
	if err != nil {
		return fmt.Errorf("copy recents: %w", err)
	}
	if loaded != len(keep) {
		m.report.Clashes = append(m.report.Clashes, fmt.Sprintf("%d recently opened entries: the clinic database already had them", len(keep)-loaded))
	}
	pairs := map[[2]string]bool{}
	want := newChecksum()
	for _, r := range keep {
		pairs[[2]string{r.PractitionerID, r.PatientID}] = true
	}
	back, err := m.t.Recents(ctx)
	if err != nil {
		return err
	}
	got := newChecksum()
	n := 0
	byPair := map[[2]string]core.Recent{}
	for _, r := range back {
		byPair[[2]string{r.PractitionerID, r.PatientID}] = r
	}
	for _, r := range keep {
		want.add(recentLine(r))
		if b, ok := byPair[[2]string{r.PractitionerID, r.PatientID}]; ok {
			n++
			got.add(recentLine(b))
		}
	}
	m.report.Recents = len(keep)
	return m.verify("recents", len(keep), n, want.String(), got.String())
}

// auditLine is an audit entry as checksummed.
func auditLine(e core.AuditEntry) string {
	e.At = e.At.UTC()
	b, _ := json.Marshal(e)
	return string(b)
}

func (m *migration) copyAudit(ctx context.Context) error {
	before, err := m.t.Audit(ctx)
	if err != nil {
		return err
	}
	es, err := m.src.Audit(ctx)
	if err != nil {
		return fmt.Errorf("copy the audit log: %w", err)
	}
	for i := 0; i < len(es); i += 10 * migrateBatch {
		if err := m.t.LoadAudit(ctx, es[i:min(len(es), i+10*migrateBatch)]); err != nil {
			return err
		}
	}
	// The database's log is by time: compare the lines as sorted sets,
	// leaving out those it had before.
	had := map[string]int{}
	for _, e := range before {
		had[auditLine(e)]++
	}
	after, err := m.t.Audit(ctx)
	if err != nil {
		return err
	}
	var wantLines, gotLines []string
	for _, e := range es {
		wantLines = append(wantLines, auditLine(e))
	}
	for _, e := range after {
		l := auditLine(e)
		if had[l] > 0 {
			had[l]--
			continue
		}
		gotLines = append(gotLines, l)
	}
	slices.Sort(wantLines)
	slices.Sort(gotLines)
	want, got := newChecksum(), newChecksum()
	for _, l := range wantLines {
		want.add(l)
	}
	for _, l := range gotLines {
		got.add(l)
	}
	m.report.Audit = len(es)
	return m.verify("audit lines", len(es), len(gotLines), want.String(), got.String())
}

// eventLine is a webhook event as checksummed: what it carried and what
// became of it, without the ids the database gives it.
func eventLine(e *core.WebhookEvent) any {
	q := *e
	q.ID, q.ProgramID = 0, 0
	q.ReceivedAt, q.DateISO, q.NextAttemptAt = q.ReceivedAt.UTC(), q.DateISO.UTC(), q.NextAttemptAt.UTC()
	return struct {
		core.WebhookEvent
		TokenHash string
	}{q, q.TokenHash}
}

// programLine is a program as checksummed, with the SHA-256 of its PDF as
// read, without its ids and where the PDF is kept.
func programLine(p *core.Program, pdfSum string) any {
	q := *p
	q.ID, q.EventID, q.Path = 0, 0, ""
	q.CreatedAt, q.FiledAt = q.CreatedAt.UTC(), q.FiledAt.UTC()
	return struct {
		core.Program
		PDF string
	}{q, pdfSum}
}

func (m *migration) copyPrograms(ctx context.Context) error {
	es, err := m.src.Inbox(ctx, core.InboxFilter{Statuses: []core.WebhookStatus{core.WebhookPending, core.WebhookFiled,
		core.WebhookUnmatched, core.WebhookRefused, core.WebhookExpired}, Limit: math.MaxInt32})
	if err != nil {
		return fmt.Errorf("copy program webhooks: %w", err)
	}
	slices.Reverse(es) // oldest first, so that the new ids keep their order
	want, got := newChecksum(), newChecksum()
	copied := map[int64]int64{} // event id in the desk's store → in the database
	for i, e := range es {
		if m.patientClashes(e) {
			m.report.Clashes = append(m.report.Clashes, fmt.Sprintf("program webhook %d: its patient %s clashed and was left out", e.ID, e.PatientID))
			continue
		}
		n := *e
		n.ID, n.ProgramID = 0, 0
		if n.Status == core.WebhookFiled {
			n.Status = core.WebhookPending // filed below, with its program
		}
		dup, err := m.t.RecordWebhook(ctx, &n)
		if err != nil {
			return fmt.Errorf("copy program webhook %d: %w", e.ID, err)
		}
		if dup {
			m.report.Clashes = append(m.report.Clashes, fmt.Sprintf("program webhook %d: the clinic database already has this delivery", e.ID))
			continue
		}
		copied[e.ID] = n.ID
		want.add(eventLine(e))
		if e.Status == core.WebhookFiled {
			p, err := m.src.Program(ctx, e.ProgramID)
			if err != nil {
				return fmt.Errorf("copy program %d: %w", e.ProgramID, err)
			}
			pdf, err := m.readPDF(ctx, p)
			if err != nil {
				return err
			}
			q := *p
			q.ID, q.Path = 0, ""
			if err := m.t.FileProgram(ctx, n.ID, &q, pdf); err != nil {
				return fmt.Errorf("copy program %d: %w", p.ID, err)
			}
			want.add(programLine(p, p.SHA256))
			m.report.Programs++
		}
		if (i+1)%1000 == 0 {
			fmt.Fprintf(m.progress, "program webhooks: %d copied\n", len(copied))
		}
	}
	m.report.Events = len(copied)
	n := 0
	for _, e := range es {
		id, ok := copied[e.ID]
		if !ok {
			continue
		}
		b, err := m.t.Webhook(ctx, id)
		if err != nil {
			return err
		}
		n++
		got.add(eventLine(b))
		if b.Status == core.WebhookFiled {
			p, err := m.t.Program(ctx, b.ProgramID)
			if err != nil {
				return err
			}
			pdf, err := m.t.ProgramPDF(ctx, p.ID)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(pdf)
			got.add(programLine(p, hex.EncodeToString(sum[:])))
		}
	}
	return m.verify("program webhooks and programs", len(copied), n, want.String(), got.String())
}

// patientClashes reports an event for a patient whose id the database had
// already: its program would be filed with the wrong patient.
func (m *migration) patientClashes(e *core.WebhookEvent) bool {
	return m.clashed[e.PatientID] || m.clashed[e.AssignedPatientID]
}

// readPDF reads a filed program's PDF from the desk's store or its data
// directory, refusing one whose SHA-256 is not the recorded one.
func (m *migration) readPDF(ctx context.Context, p *core.Program) ([]byte, error) {
	var pdf []byte
	var err error
	if p.Path != "" {
		pdf, err = os.ReadFile(filepath.Join(m.home, filepath.FromSlash(p.Path)))
	} else {
		pdf, err = m.src.ProgramPDF(ctx, p.ID)
	}
	if err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "from", "The PDF of program %d (%s) could not be read (%v); restore it, then migrate again.", p.ID, p.Name, err)
	}
	sum := sha256.Sum256(pdf)
	if hex.EncodeToString(sum[:]) != p.SHA256 {
		return nil, core.Errorf(core.EINVALID, "from", "The PDF of program %d (%s) is not the file that was filed (its SHA-256 differs); restore it, then migrate again.", p.ID, p.Name)
	}
	return pdf, nil
}

// moveKeyring copies the keyring entries of the desk's directory to the
// database's scope, when the two have different store ids (a merge).
func (m *migration) moveKeyring(ctx context.Context, sec core.SecretStore, dst *postgres.DB) {
	from := New(Options{Store: m.src, Secrets: sec})
	to := New(Options{Store: dst, Secrets: sec})
	names := func(d *Desk) []string {
		var out []string
		for id := range m.practitioners {
			if n, err := d.keyName(ctx, id); err == nil {
				out = append(out, n)
			}
		}
		if n, err := d.webhookSecretName(ctx); err == nil {
			out = append(out, n)
		}
		return out
	}
	src, dstNames := names(from), names(to)
	if len(src) != len(dstNames) {
		return
	}
	for i := range src {
		if src[i] == dstNames[i] {
			continue
		}
		s, err := sec.Secret(src[i])
		if err != nil || s == "" {
			continue
		}
		if err := sec.SetSecret(dstNames[i], s); err == nil {
			m.report.KeysMoved++
		}
	}
}
