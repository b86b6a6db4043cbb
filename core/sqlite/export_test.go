package sqlite

import "context"

// MarkSchemaVersionForTest records migration v as applied, as a newer PT
// Desk would have.
func (db *DB) MarkSchemaVersionForTest(ctx context.Context, v int) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`, v)
	return err
}

// SetExactSearchLimitForTest chooses how searches are answered: 0 reads the
// name indexes tier by tier for every query, a large n sorts every match.
func (db *DB) SetExactSearchLimitForTest(n int) { db.exactLimit = n }
