package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"ptdesk/core"
)

// This file gives what moving the directory into another store (`ptdeskctl
// migrate`) reads beyond core.Store: the history no screen shows, read here
// so that only this package knows the tables it lives in.

// KeyHistory lists every key the directory knows, current and retired (late
// program webhooks still carry retired ones), by practitioner and then by
// lookup hash, in byte order.
func (db *DB) KeyHistory(ctx context.Context) ([]core.KeyRecord, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT practitioner_id, lookup_hash, fingerprint, set_at, retired_at
		FROM practitioner_keys ORDER BY practitioner_id, lookup_hash`)
	if err != nil {
		return nil, fmt.Errorf("key history: %w", db.busy(err))
	}
	defer rows.Close()
	var out []core.KeyRecord
	for rows.Next() {
		var k core.KeyRecord
		var setAt int64
		var retired sql.NullInt64
		if err := rows.Scan(&k.PractitionerID, &k.LookupHash, &k.Fingerprint, &setAt, &retired); err != nil {
			return nil, fmt.Errorf("key history: %w", err)
		}
		k.SetAt = fromDB(setAt)
		if retired.Valid {
			k.RetiredAt = fromDB(retired.Int64)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("key history: %w", db.busy(err))
	}
	return out, nil
}

// Recents lists every practitioner's opens, oldest first; opens of the same
// microsecond keep the order they were made in.
func (db *DB) Recents(ctx context.Context) ([]core.Recent, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT practitioner_id, patient_id, opened_at, last_sent
		FROM recents ORDER BY opened_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("recents: %w", db.busy(err))
	}
	defer rows.Close()
	var out []core.Recent
	for rows.Next() {
		var r core.Recent
		var at int64
		var sent string
		if err := rows.Scan(&r.PractitionerID, &r.PatientID, &at, &sent); err != nil {
			return nil, fmt.Errorf("recents: %w", err)
		}
		r.OpenedAt = fromDB(at)
		r.LastSent = map[string]string{}
		if err := json.Unmarshal([]byte(sent), &r.LastSent); err != nil {
			return nil, fmt.Errorf("recents of practitioner %s: %w", r.PractitionerID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recents: %w", db.busy(err))
	}
	return out, nil
}
