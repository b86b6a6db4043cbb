package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"ptdesk/core"
)

// nameKey makes practitioner names unique regardless of case.
func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

func practitionerNotFound(id string) error {
	return core.Errorf(core.ENOTFOUND, "id", "No practitioner has id %q; reload the list of practitioners.", id)
}

func practitionerNameTaken(name string) error {
	return core.Errorf(core.ECONFLICT, "name", "A practitioner named %q already exists; use a different name (add an initial, for example).", name)
}

// CreatePractitioner stores p with the next number as its id when p.ID is
// empty (an explicit id that exists is ECONFLICT on "id"), and p.Key as its
// current key when set. It sets ID and CreatedAt.
func (db *DB) CreatePractitioner(ctx context.Context, p *core.Practitioner) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create practitioner: %w", db.busy(err))
	}
	defer tx.Rollback()
	if taken, err := nameTaken(ctx, tx, p.Name, ""); err != nil {
		return fmt.Errorf("create practitioner: %w", err)
	} else if taken {
		return practitionerNameTaken(p.Name)
	}
	id := p.ID
	if id == "" {
		if id, err = nextID(ctx, tx, "practitioner", "practitioners"); err != nil {
			return fmt.Errorf("create practitioner: %w", err)
		}
	} else if err := skipID(ctx, tx, "practitioner", id); err != nil {
		return fmt.Errorf("create practitioner: %w", err)
	}
	now := db.stamp()
	if _, err := tx.ExecContext(ctx, `INSERT INTO practitioners (id, name, name_key, email, server, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, id, p.Name, nameKey(p.Name), p.Email, p.Server, toDB(now)); err != nil {
		if isUnique(err) {
			return core.Errorf(core.ECONFLICT, "id", "A practitioner with id %q already exists; leave the id empty to get the next number.", id)
		}
		return fmt.Errorf("create practitioner: %w", err)
	}
	var key *core.KeyInfo
	if p.Key != nil {
		k := *p.Key
		if err := db.setKey(ctx, tx, id, &k); err != nil {
			return err
		}
		key = &k
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create practitioner: %w", db.busy(err))
	}
	p.ID, p.CreatedAt = id, now
	if key != nil {
		p.Key = key
	}
	return nil
}

// nameTaken reports whether another practitioner than exceptID has name,
// regardless of case.
func nameTaken(ctx context.Context, tx *sql.Tx, name, exceptID string) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM practitioners WHERE name_key = ? AND id <> ?`, nameKey(name), exceptID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// UpdatePractitioner saves p's name, email and server; keys change only
// through SetKeyInfo and ClearKeyInfo.
func (db *DB) UpdatePractitioner(ctx context.Context, p *core.Practitioner) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update practitioner: %w", db.busy(err))
	}
	defer tx.Rollback()
	if taken, err := nameTaken(ctx, tx, p.Name, p.ID); err != nil {
		return fmt.Errorf("update practitioner: %w", err)
	} else if taken {
		return practitionerNameTaken(p.Name)
	}
	res, err := tx.ExecContext(ctx, `UPDATE practitioners SET name = ?, name_key = ?, email = ?, server = ? WHERE id = ?`,
		p.Name, nameKey(p.Name), p.Email, p.Server, p.ID)
	if err != nil {
		return fmt.Errorf("update practitioner: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update practitioner: %w", err)
	} else if n == 0 {
		return practitionerNotFound(p.ID)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update practitioner: %w", db.busy(err))
	}
	return nil
}

// DeletePractitioner removes the practitioner with their key records and
// recents. The audit log keeps every line that names them.
func (db *DB) DeletePractitioner(ctx context.Context, id string) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM practitioners WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete practitioner: %w", db.busy(err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete practitioner: %w", err)
	} else if n == 0 {
		return practitionerNotFound(id)
	}
	return nil
}

const practitionerSelect = `SELECT p.id, p.name, p.email, p.server, p.created_at,
	k.lookup_hash, k.fingerprint, k.set_at
	FROM practitioners p
	LEFT JOIN practitioner_keys k ON k.practitioner_id = p.id AND k.retired_at IS NULL`

func scanPractitioner(s scanner) (*core.Practitioner, error) {
	var (
		p            core.Practitioner
		created      int64
		hash, finger sql.NullString
		setAt        sql.NullInt64
	)
	if err := s.Scan(&p.ID, &p.Name, &p.Email, &p.Server, &created, &hash, &finger, &setAt); err != nil {
		return nil, err
	}
	p.CreatedAt = fromDB(created)
	if hash.Valid {
		p.Key = &core.KeyInfo{LookupHash: hash.String, Fingerprint: finger.String, SetAt: fromDB(setAt.Int64)}
	}
	return &p, nil
}

// Practitioner returns the practitioner with id and their current key.
func (db *DB) Practitioner(ctx context.Context, id string) (*core.Practitioner, error) {
	p, err := scanPractitioner(db.sql.QueryRowContext(ctx, practitionerSelect+` WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, practitionerNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("practitioner %s: %w", id, err)
	}
	return p, nil
}

// Practitioners lists every practitioner by name, regardless of case.
func (db *DB) Practitioners(ctx context.Context) ([]*core.Practitioner, error) {
	rows, err := db.sql.QueryContext(ctx, practitionerSelect+` ORDER BY p.name_key, p.id`)
	if err != nil {
		return nil, fmt.Errorf("practitioners: %w", err)
	}
	defer rows.Close()
	var ps []*core.Practitioner
	for rows.Next() {
		p, err := scanPractitioner(rows)
		if err != nil {
			return nil, fmt.Errorf("practitioners: %w", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("practitioners: %w", err)
	}
	return ps, nil
}

// SetKeyInfo makes k the practitioner's current key and retires the one
// before. Setting a retired key of the same practitioner again makes it
// current again; a key hash that belongs to another practitioner is
// ECONFLICT on "key".
func (db *DB) SetKeyInfo(ctx context.Context, practitionerID string, k core.KeyInfo) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set key: %w", db.busy(err))
	}
	defer tx.Rollback()
	if err := practitionerExists(ctx, tx, practitionerID); err != nil {
		return err
	}
	if err := db.setKey(ctx, tx, practitionerID, &k); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set key: %w", db.busy(err))
	}
	return nil
}

// setKey records k (its SetAt defaulting to now) as the current key.
func (db *DB) setKey(ctx context.Context, tx *sql.Tx, practitionerID string, k *core.KeyInfo) error {
	if k.LookupHash == "" {
		return core.Errorf(core.EINVALID, "key", "The key has no lookup hash; derive it from the key before saving.")
	}
	if k.SetAt.IsZero() {
		k.SetAt = db.stamp()
	} else {
		k.SetAt = k.SetAt.UTC().Truncate(time.Microsecond)
	}
	var owner string
	err := tx.QueryRowContext(ctx, `SELECT practitioner_id FROM practitioner_keys WHERE lookup_hash = ?`, k.LookupHash).Scan(&owner)
	switch {
	case err == nil && owner != practitionerID:
		return core.Errorf(core.ECONFLICT, "key", "This key already belongs to another practitioner; generate a new key.")
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("set key: %w", err)
	}
	now := toDB(db.stamp())
	if _, err := tx.ExecContext(ctx, `UPDATE practitioner_keys SET retired_at = ?
		WHERE practitioner_id = ? AND retired_at IS NULL AND lookup_hash <> ?`, now, practitionerID, k.LookupHash); err != nil {
		return fmt.Errorf("set key: retire the previous key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO practitioner_keys (lookup_hash, practitioner_id, fingerprint, set_at)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (lookup_hash) DO UPDATE SET fingerprint = excluded.fingerprint, set_at = excluded.set_at, retired_at = NULL`,
		k.LookupHash, practitionerID, k.Fingerprint, toDB(k.SetAt)); err != nil {
		return fmt.Errorf("set key: %w", err)
	}
	return nil
}

func practitionerExists(ctx context.Context, tx *sql.Tx, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM practitioners WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return practitionerNotFound(id)
	}
	if err != nil {
		return fmt.Errorf("practitioner %s: %w", id, err)
	}
	return nil
}

// ClearKeyInfo retires the practitioner's current key, if any.
func (db *DB) ClearKeyInfo(ctx context.Context, practitionerID string) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("clear key: %w", db.busy(err))
	}
	defer tx.Rollback()
	if err := practitionerExists(ctx, tx, practitionerID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE practitioner_keys SET retired_at = ?
		WHERE practitioner_id = ? AND retired_at IS NULL`, toDB(db.stamp()), practitionerID); err != nil {
		return fmt.Errorf("clear key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("clear key: %w", db.busy(err))
	}
	return nil
}

// PractitionerByKeyHash finds whose key, current or retired, has hash.
func (db *DB) PractitionerByKeyHash(ctx context.Context, hash string) (*core.Practitioner, bool, error) {
	var id string
	var retiredAt sql.NullInt64
	err := db.sql.QueryRowContext(ctx, `SELECT practitioner_id, retired_at FROM practitioner_keys WHERE lookup_hash = ?`, hash).Scan(&id, &retiredAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, core.Errorf(core.ENOTFOUND, "key", "No practitioner has this key.")
	}
	if err != nil {
		return nil, false, fmt.Errorf("practitioner by key: %w", err)
	}
	p, err := db.Practitioner(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return p, retiredAt.Valid, nil
}
