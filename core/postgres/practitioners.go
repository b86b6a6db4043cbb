package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	now := db.stamp()
	id := p.ID
	var key *core.KeyInfo
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if taken, err := nameTaken(ctx, tx, p.Name, ""); err != nil {
			return err
		} else if taken {
			return practitionerNameTaken(p.Name)
		}
		if id != "" {
			if err := advancePast(ctx, tx, practitionerIDs, id); err != nil {
				return err
			}
			ok, err := insertPractitioner(ctx, tx, id, p, now)
			if err != nil {
				return err
			}
			if !ok {
				return core.Errorf(core.ECONFLICT, "id", "A practitioner with id %q already exists; leave the id empty to get the next number.", id)
			}
		} else {
			for {
				var err error
				if id, err = nextID(ctx, tx, practitionerIDs); err != nil {
					return err
				}
				ok, err := insertPractitioner(ctx, tx, id, p, now)
				if err != nil {
					return err
				}
				if ok {
					break
				}
			}
		}
		if p.Key != nil {
			k := *p.Key
			if err := db.setKey(ctx, tx, id, &k); err != nil {
				return err
			}
			key = &k
		}
		return db.notify(ctx, tx, core.ChangePractitioner, id)
	})
	if err != nil {
		return fmt.Errorf("create practitioner: %w", err)
	}
	p.ID, p.CreatedAt = id, now
	if key != nil {
		p.Key = key
	}
	return nil
}

// insertPractitioner inserts the row, reporting false when the id is
// taken; a name taken meanwhile by another desk is ECONFLICT on "name".
func insertPractitioner(ctx context.Context, tx pgx.Tx, id string, p *core.Practitioner, at time.Time) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO practitioners (id, name, name_key, email, server, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`, id, p.Name, nameKey(p.Name), p.Email, p.Server, at)
	if isUnique(err, "practitioners_name_key_key") {
		return false, practitionerNameTaken(p.Name)
	}
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// nameTaken reports whether another practitioner than exceptID has name,
// regardless of case.
func nameTaken(ctx context.Context, q querier, name, exceptID string) (bool, error) {
	var taken bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM practitioners WHERE name_key = $1 AND id <> $2)`, nameKey(name), exceptID).Scan(&taken)
	return taken, err
}

// UpdatePractitioner saves p's name, email and server; keys change only
// through SetKeyInfo and ClearKeyInfo.
func (db *DB) UpdatePractitioner(ctx context.Context, p *core.Practitioner) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if taken, err := nameTaken(ctx, tx, p.Name, p.ID); err != nil {
			return err
		} else if taken {
			return practitionerNameTaken(p.Name)
		}
		tag, err := tx.Exec(ctx, `UPDATE practitioners SET name = $1, name_key = $2, email = $3, server = $4 WHERE id = $5`,
			p.Name, nameKey(p.Name), p.Email, p.Server, p.ID)
		if isUnique(err, "") {
			return practitionerNameTaken(p.Name)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return practitionerNotFound(p.ID)
		}
		return db.notify(ctx, tx, core.ChangePractitioner, p.ID)
	})
	if err != nil {
		return fmt.Errorf("update practitioner: %w", err)
	}
	return nil
}

// DeletePractitioner removes the practitioner with their key records,
// recents and key reports. The audit log keeps every line that names them.
func (db *DB) DeletePractitioner(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM practitioners WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return practitionerNotFound(id)
		}
		return db.notify(ctx, tx, core.ChangePractitioner, id)
	})
	if err != nil {
		return fmt.Errorf("delete practitioner: %w", err)
	}
	return nil
}

const practitionerSelect = `SELECT p.id, p.name, p.email, p.server, p.created_at,
	k.lookup_hash, k.fingerprint, k.set_at
	FROM practitioners p
	LEFT JOIN practitioner_keys k ON k.practitioner_id = p.id AND k.retired_at IS NULL`

func scanPractitioner(row pgx.Row) (*core.Practitioner, error) {
	var (
		p            core.Practitioner
		hash, finger *string
		setAt        *time.Time
	)
	if err := row.Scan(&p.ID, &p.Name, &p.Email, &p.Server, &p.CreatedAt, &hash, &finger, &setAt); err != nil {
		return nil, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	if hash != nil {
		p.Key = &core.KeyInfo{LookupHash: *hash, Fingerprint: *finger, SetAt: setAt.UTC()}
	}
	return &p, nil
}

// Practitioner returns the practitioner with id and their current key.
func (db *DB) Practitioner(ctx context.Context, id string) (*core.Practitioner, error) {
	p, err := scanPractitioner(db.q.QueryRow(ctx, practitionerSelect+` WHERE p.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, practitionerNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("practitioner %s: %w", id, db.unreachable(err))
	}
	return p, nil
}

// Practitioners lists every practitioner by name, regardless of case.
func (db *DB) Practitioners(ctx context.Context) ([]*core.Practitioner, error) {
	rows, err := db.q.Query(ctx, practitionerSelect+` ORDER BY p.name_key COLLATE "C", p.id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("practitioners: %w", db.unreachable(err))
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*core.Practitioner, error) { return scanPractitioner(r) })
	if err != nil {
		return nil, fmt.Errorf("practitioners: %w", db.unreachable(err))
	}
	return ps, nil
}

// SetKeyInfo makes k the practitioner's current key and retires the one
// before. Setting a retired key of the same practitioner again makes it
// current again; a key hash that belongs to another practitioner is
// ECONFLICT on "key".
func (db *DB) SetKeyInfo(ctx context.Context, practitionerID string, k core.KeyInfo) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockPractitioner(ctx, tx, practitionerID); err != nil {
			return err
		}
		if err := db.setKey(ctx, tx, practitionerID, &k); err != nil {
			return err
		}
		return db.notify(ctx, tx, core.ChangePractitioner, practitionerID)
	})
	if err != nil {
		return fmt.Errorf("set key: %w", err)
	}
	return nil
}

// setKey records k (its SetAt defaulting to now) as the current key.
func (db *DB) setKey(ctx context.Context, tx pgx.Tx, practitionerID string, k *core.KeyInfo) error {
	if k.LookupHash == "" {
		return core.Errorf(core.EINVALID, "key", "The key has no lookup hash; derive it from the key before saving.")
	}
	k.SetAt = db.at(k.SetAt)
	var owner string
	err := tx.QueryRow(ctx, `SELECT practitioner_id FROM practitioner_keys WHERE lookup_hash = $1`, k.LookupHash).Scan(&owner)
	switch {
	case err == nil && owner != practitionerID:
		return core.Errorf(core.ECONFLICT, "key", "This key already belongs to another practitioner; generate a new key.")
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE practitioner_keys SET retired_at = $1
		WHERE practitioner_id = $2 AND retired_at IS NULL AND lookup_hash <> $3`, db.stamp(), practitionerID, k.LookupHash); err != nil {
		return fmt.Errorf("retire the previous key: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO practitioner_keys (lookup_hash, practitioner_id, fingerprint, set_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (lookup_hash) DO UPDATE SET fingerprint = excluded.fingerprint, set_at = excluded.set_at, retired_at = NULL
		WHERE practitioner_keys.practitioner_id = excluded.practitioner_id`,
		k.LookupHash, practitionerID, k.Fingerprint, k.SetAt)
	return err
}

// lockPractitioner checks that the practitioner exists and keeps their row
// from being deleted or changed by another desk until the transaction
// ends: two desks setting the same practitioner's key take turns.
func lockPractitioner(ctx context.Context, q querier, id string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM practitioners WHERE id = $1 FOR UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return practitionerNotFound(id)
	}
	return err
}

// ClearKeyInfo retires the practitioner's current key, if any.
func (db *DB) ClearKeyInfo(ctx context.Context, practitionerID string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockPractitioner(ctx, tx, practitionerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE practitioner_keys SET retired_at = $1
			WHERE practitioner_id = $2 AND retired_at IS NULL`, db.stamp(), practitionerID); err != nil {
			return err
		}
		return db.notify(ctx, tx, core.ChangePractitioner, practitionerID)
	})
	if err != nil {
		return fmt.Errorf("clear key: %w", err)
	}
	return nil
}

// PractitionerByKeyHash finds whose key, current or retired, has hash.
func (db *DB) PractitionerByKeyHash(ctx context.Context, hash string) (*core.Practitioner, bool, error) {
	var id string
	var retiredAt *time.Time
	err := db.q.QueryRow(ctx, `SELECT practitioner_id, retired_at FROM practitioner_keys WHERE lookup_hash = $1`, hash).Scan(&id, &retiredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, core.Errorf(core.ENOTFOUND, "key", "No practitioner has this key.")
	}
	if err != nil {
		return nil, false, fmt.Errorf("practitioner by key: %w", db.unreachable(err))
	}
	p, err := db.Practitioner(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return p, retiredAt != nil, nil
}
