package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ptdesk/core"
)

// Transfer moves a directory into the store (`ptdeskctl migrate`) in one
// transaction: everything it loads appears at Commit, or nothing does. It
// is also a view of the store inside that transaction: every method of DB
// (reads, and writes such as RecordWebhook, as savepoints) works on it and
// sees what was loaded so far, which is how a migration checks what it
// loaded before it commits. A Transfer is not for concurrent use, and the
// fn given to EachPatient must not use it.
type Transfer struct {
	*DB
	tx     pgx.Tx
	staged map[string]bool
}

// BeginTransfer starts a transfer.
func (db *DB) BeginTransfer(ctx context.Context) (*Transfer, error) {
	tx, err := db.q.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin transfer: %w", db.unreachable(err))
	}
	view := &DB{q: tx, now: db.now, log: db.log, schema: db.schema, channel: db.channel, exactLimit: db.exactLimit, probeBudget: db.probeBudget}
	return &Transfer{DB: view, tx: tx, staged: map[string]bool{}}, nil
}

// Commit makes everything loaded visible to every desk at once, and tells
// them to refresh.
func (t *Transfer) Commit(ctx context.Context) error {
	if err := t.notify(ctx, t.tx, core.ChangeAll, ""); err != nil {
		return err
	}
	if err := t.tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transfer: %w", t.unreachable(err))
	}
	return nil
}

// Rollback abandons the transfer; after Commit it does nothing.
func (t *Transfer) Rollback(ctx context.Context) error {
	if err := t.tx.Rollback(ctx); err != nil && err != pgx.ErrTxClosed {
		return fmt.Errorf("roll back transfer: %w", err)
	}
	return nil
}

// Empty reports whether the directory holds nothing a clinic entered: no
// patient, practitioner, audit line or program webhook.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var used bool
	err := db.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM patients) OR EXISTS (SELECT 1 FROM practitioners)
		OR EXISTS (SELECT 1 FROM audit) OR EXISTS (SELECT 1 FROM webhook_events)`).Scan(&used)
	if err != nil {
		return false, fmt.Errorf("is the directory empty: %w", db.unreachable(err))
	}
	return !used, nil
}

// stage creates a temporary table once per transfer, dropped at its end.
func (t *Transfer) stage(ctx context.Context, name, definition string) error {
	if t.staged[name] {
		_, err := t.tx.Exec(ctx, `TRUNCATE `+name)
		return err
	}
	if _, err := t.tx.Exec(ctx, `CREATE TEMP TABLE `+name+` ON COMMIT DROP AS `+definition+` WITH NO DATA`); err != nil {
		return err
	}
	t.staged[name] = true
	return nil
}

// LoadPatients stores patients exactly as they are (ids, versions, times,
// archived), and moves the id sequence past their ids. A patient whose id
// the store already has is left out, and its id returned: a clash is
// reported, never overwritten.
func (t *Transfer) LoadPatients(ctx context.Context, ps []*core.Patient) (clashes []string, err error) {
	if len(ps) == 0 {
		return nil, nil
	}
	if err := t.stage(ctx, "load_patients", `SELECT `+strings.Join(insertColumns, ", ")+` FROM patients`); err != nil {
		return nil, fmt.Errorf("load patients: %w", err)
	}
	if err := t.stage(ctx, "load_tokens", `SELECT `+strings.Join(tokenColumns, ", ")+` FROM patient_tokens`); err != nil {
		return nil, fmt.Errorf("load patients: %w", err)
	}
	rows := make([][]any, len(ps))
	var tokens [][]any
	var maxID int64
	for i, p := range ps {
		q := *p
		q.CreatedAt, q.UpdatedAt = q.CreatedAt.UTC().Truncate(time.Microsecond), q.UpdatedAt.UTC().Truncate(time.Microsecond)
		d := derive(&q)
		rows[i] = insertArgs(&q, d, emptyFieldVersions)
		tokens = append(tokens, tokenRows(q.ID, d)...)
		if n, ok := numericID(q.ID); ok {
			maxID = max(maxID, n)
		}
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"load_patients"}, insertColumns, pgx.CopyFromRows(rows)); err != nil {
		return nil, fmt.Errorf("load patients: %w", t.unreachable(err))
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"load_tokens"}, tokenColumns, pgx.CopyFromRows(tokens)); err != nil {
		return nil, fmt.Errorf("load patients: %w", t.unreachable(err))
	}
	cols := strings.Join(insertColumns, ", ")
	inserted, err := t.tx.Query(ctx, `INSERT INTO patients (`+cols+`) SELECT `+cols+` FROM load_patients
		ON CONFLICT (id) DO NOTHING RETURNING id`)
	if err != nil {
		return nil, fmt.Errorf("load patients: %w", t.unreachable(err))
	}
	ids, err := pgx.CollectRows(inserted, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("load patients: %w", t.unreachable(err))
	}
	tcols := strings.Join(tokenColumns, ", ")
	if _, err := t.tx.Exec(ctx, `INSERT INTO patient_tokens (`+tcols+`)
		SELECT `+tcols+` FROM load_tokens WHERE patient_id = ANY($1)`, ids); err != nil {
		return nil, fmt.Errorf("load patients: index: %w", t.unreachable(err))
	}
	if maxID > 0 {
		if err := advance(ctx, t.tx, patientIDs, maxID); err != nil {
			return nil, fmt.Errorf("load patients: %w", err)
		}
	}
	if len(ids) < len(ps) {
		got := make(map[string]bool, len(ids))
		for _, id := range ids {
			got[id] = true
		}
		for _, p := range ps {
			if !got[p.ID] {
				clashes = append(clashes, p.ID)
			}
		}
	}
	return clashes, nil
}

// LoadPractitioner stores p as it is (id, name, times) with its keys,
// current and retired, and moves the id sequence past its id. When the
// store already has its id or its name, or a practitioner with one of its
// keys, nothing is stored and the reason is returned.
func (t *Transfer) LoadPractitioner(ctx context.Context, p *core.Practitioner, keys []core.KeyRecord) (clash string, err error) {
	err = t.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO practitioners (id, name, name_key, email, server, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
			p.ID, p.Name, nameKey(p.Name), p.Email, p.Server, p.CreatedAt.UTC().Truncate(time.Microsecond))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			clash = fmt.Sprintf("practitioner %s (%s): the clinic database already has a practitioner with this id or name", p.ID, p.Name)
			return errClash
		}
		for _, k := range keys {
			var retired *time.Time
			if !k.RetiredAt.IsZero() {
				r := k.RetiredAt.UTC().Truncate(time.Microsecond)
				retired = &r
			}
			tag, err := tx.Exec(ctx, `INSERT INTO practitioner_keys (lookup_hash, practitioner_id, fingerprint, set_at, retired_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
				k.LookupHash, p.ID, k.Fingerprint, k.SetAt.UTC().Truncate(time.Microsecond), retired)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				clash = fmt.Sprintf("practitioner %s (%s): the key %s already belongs to a practitioner of the clinic database", p.ID, p.Name, k.Fingerprint)
				return errClash
			}
		}
		return advancePast(ctx, tx, practitionerIDs, p.ID)
	})
	if err == errClash {
		return clash, nil
	}
	if err != nil {
		return "", fmt.Errorf("load practitioner %s: %w", p.ID, err)
	}
	return "", nil
}

// errClash rolls a load's savepoint back when what it loads clashes.
var errClash = fmt.Errorf("clash")

// KeyHistory lists every key the store knows, current and retired, by
// practitioner and then by hash.
func (db *DB) KeyHistory(ctx context.Context) ([]core.KeyRecord, error) {
	rows, err := db.q.Query(ctx, `SELECT practitioner_id, lookup_hash, fingerprint, set_at, retired_at FROM practitioner_keys
		ORDER BY practitioner_id COLLATE "C", lookup_hash COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("key history: %w", db.unreachable(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.KeyRecord, error) {
		var k core.KeyRecord
		var retired *time.Time
		err := r.Scan(&k.PractitionerID, &k.LookupHash, &k.Fingerprint, &k.SetAt, &retired)
		k.SetAt = k.SetAt.UTC()
		if retired != nil {
			k.RetiredAt = retired.UTC()
		}
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("key history: %w", db.unreachable(err))
	}
	return out, nil
}

// LoadRecents stores opens, given oldest first (the order breaks ties
// between opens of the same microsecond). Opens of a practitioner or
// patient the store lacks, or of a pair it already has, are left out; it
// returns how many were stored.
func (t *Transfer) LoadRecents(ctx context.Context, rs []core.Recent) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	if err := t.stage(ctx, "load_recents", `SELECT 0::bigint AS ord, practitioner_id, patient_id, opened_at, last_sent FROM recents`); err != nil {
		return 0, fmt.Errorf("load recents: %w", err)
	}
	rows := make([][]any, len(rs))
	for i, r := range rs {
		sent := r.LastSent
		if sent == nil {
			sent = map[string]string{}
		}
		b, err := json.Marshal(sent)
		if err != nil {
			return 0, fmt.Errorf("load recents: %w", err)
		}
		rows[i] = []any{int64(i), r.PractitionerID, r.PatientID, r.OpenedAt.UTC().Truncate(time.Microsecond), b}
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"load_recents"}, []string{"ord", "practitioner_id", "patient_id", "opened_at", "last_sent"},
		pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("load recents: %w", t.unreachable(err))
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO recents (practitioner_id, patient_id, opened_at, last_sent)
		SELECT l.practitioner_id, l.patient_id, l.opened_at, l.last_sent FROM load_recents l
		WHERE EXISTS (SELECT 1 FROM practitioners WHERE id = l.practitioner_id)
		  AND EXISTS (SELECT 1 FROM patients WHERE id = l.patient_id)
		ORDER BY l.ord
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("load recents: %w", t.unreachable(err))
	}
	return int(tag.RowsAffected()), nil
}

// Recents lists every practitioner's opens, oldest first.
func (db *DB) Recents(ctx context.Context) ([]core.Recent, error) {
	rows, err := db.q.Query(ctx, `SELECT practitioner_id, patient_id, opened_at, last_sent FROM recents ORDER BY opened_at, seq`)
	if err != nil {
		return nil, fmt.Errorf("recents: %w", db.unreachable(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Recent, error) {
		var rc core.Recent
		var raw []byte
		if err := r.Scan(&rc.PractitionerID, &rc.PatientID, &rc.OpenedAt, &raw); err != nil {
			return rc, err
		}
		rc.OpenedAt = rc.OpenedAt.UTC()
		rc.LastSent = map[string]string{}
		return rc, json.Unmarshal(raw, &rc.LastSent)
	})
	if err != nil {
		return nil, fmt.Errorf("recents: %w", db.unreachable(err))
	}
	return out, nil
}

// LoadAudit appends audit lines as they are, in the order given.
func (t *Transfer) LoadAudit(ctx context.Context, es []core.AuditEntry) error {
	rows := make([][]any, len(es))
	for i, e := range es {
		rows[i] = []any{e.At.UTC().Truncate(time.Microsecond), e.Action, e.PractitionerID, e.PatientID, e.DeskUser}
	}
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"audit"}, []string{"at", "action", "practitioner_id", "patient_id", "desk_user"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("load audit: %w", t.unreachable(err))
	}
	return nil
}

// AdoptStoreID gives the directory the id of the one it is moved from, so
// that the keyring entries every desk made for that one (practitioners'
// keys, the webhook secret) go on working. Only for a directory that was
// empty: the id of a directory in use never changes.
func (t *Transfer) AdoptStoreID(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	if _, err := t.tx.Exec(ctx, `UPDATE settings SET value = $1 WHERE key = $2`, id, core.StoreIDKey); err != nil {
		return fmt.Errorf("adopt store id: %w", t.unreachable(err))
	}
	return nil
}
