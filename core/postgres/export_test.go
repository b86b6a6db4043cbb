package postgres

// SetExactLimit lowers the number of candidates a search sorts at once, so
// that tests exercise every way of answering.
func (db *DB) SetExactLimit(n int) { db.exactLimit = n }

// SetProbeBudget lowers the number of candidates a search checks before
// it asks the full-text index instead.
func (db *DB) SetProbeBudget(n int) { db.probeBudget = n }
