package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"ptdesk/core"
)

// ReportKeyPresence replaces what desk reported before with keys: the
// practitioners whose keys its keyring holds now, by fingerprint. Reports
// of practitioners removed meanwhile are dropped.
func (db *DB) ReportKeyPresence(ctx context.Context, desk string, keys []core.KeyPresence) error {
	if desk == "" {
		return core.Errorf(core.EINVALID, "desk", "A key report needs the desk's name.")
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM key_presence WHERE desk = $1`, desk); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO key_presence (practitioner_id, desk, fingerprint, seen_at)
				SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM practitioners WHERE id = $1)
				ON CONFLICT (practitioner_id, desk) DO UPDATE SET fingerprint = excluded.fingerprint, seen_at = excluded.seen_at`,
				k.PractitionerID, desk, k.Fingerprint, db.at(k.SeenAt)); err != nil {
				return err
			}
		}
		return db.notify(ctx, tx, core.ChangePractitioner, "")
	})
	if err != nil {
		return fmt.Errorf("report keys of desk %s: %w", desk, err)
	}
	return nil
}

// KeyPresence lists what the desks reported for the practitioner, most
// recently seen first.
func (db *DB) KeyPresence(ctx context.Context, practitionerID string) ([]core.KeyPresence, error) {
	rows, err := db.q.Query(ctx, `SELECT practitioner_id, desk, fingerprint, seen_at FROM key_presence
		WHERE practitioner_id = $1 ORDER BY seen_at DESC, desk`, practitionerID)
	if err != nil {
		return nil, fmt.Errorf("key presence: %w", db.unreachable(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.KeyPresence, error) {
		var k core.KeyPresence
		err := r.Scan(&k.PractitionerID, &k.Desk, &k.Fingerprint, &k.SeenAt)
		k.SeenAt = k.SeenAt.UTC()
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("key presence: %w", db.unreachable(err))
	}
	return out, nil
}
