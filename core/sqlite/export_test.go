package sqlite

import "context"

// MarkSchemaVersionForTest records migration v as applied, as a newer PT
// Desk would have.
func (db *DB) MarkSchemaVersionForTest(ctx context.Context, v int) error {
	_, err := db.sql.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`, v)
	return err
}

// SetSearchWayForTest chooses how tier 3 of a search is read: "sorted"
// always from the token index and the other places other tokens are,
// looked up one by one; "intersected" likewise but, for the other name
// terms, checked against the anchor's ranges; "ranged" likewise but with
// the anchor's rows found from another name term's ranges wherever that
// plan applies (see anchorInRanges); "scanned" always from the name
// indexes; "year" from a birth year's range when the query has one;
// "auto" as the directory's size and the query suggest.
func (db *DB) SetSearchWayForTest(way string) {
	db.way = map[string]int{"auto": wayAuto, "sorted": waySorted, "scanned": wayScanned,
		"intersected": wayIntersected, "year": wayYear, "ranged": wayRanged}[way]
}

// SetImportTokenBatchForTest makes imports add new rows to the token index
// n at a time, so that small tests go through several batches.
func (db *DB) SetImportTokenBatchForTest(n int) { db.tokenBatch = int64(n) }

// SynchronousForTest reads PRAGMA synchronous on n connections of the pool
// at once (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA).
func (db *DB) SynchronousForTest(ctx context.Context, n int) ([]int, error) {
	var out []int
	for range n {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		var v int
		if err := conn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// PreparedForTest is the number of statements the store keeps prepared.
func (db *DB) PreparedForTest() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return len(db.stmts)
}
