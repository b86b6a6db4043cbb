package postgres

import (
	"context"
	"fmt"
	"strconv"
)

// The sequences that hand out ids. A sequence never gives a number twice,
// whatever the transactions around it do, which is what lets any number of
// desks add patients at once. Explicit ids made of digits move the
// sequence past themselves (advance), so that an assigned id never equals
// one; in the rare race where a concurrent advance moves a sequence back
// over numbers just handed out, the primary key refuses the second row and
// the store takes the next number (see CreatePatient).
const (
	patientIDs      = "patient_ids"
	practitionerIDs = "practitioner_ids"
)

// nextID takes the next number of the sequence.
func nextID(ctx context.Context, q querier, seq string) (string, error) {
	var n int64
	if err := q.QueryRow(ctx, `SELECT nextval('`+seq+`')`).Scan(&n); err != nil {
		return "", fmt.Errorf("next id of %s: %w", seq, err)
	}
	return strconv.FormatInt(n, 10), nil
}

// advance moves the sequence so that the next number it gives is past n
// (an explicit id), unless it is already.
func advance(ctx context.Context, q querier, seq string, n int64) error {
	if _, err := q.Exec(ctx, `SELECT setval('`+seq+`', $1) FROM `+seq+`
		WHERE (CASE WHEN is_called THEN last_value + 1 ELSE last_value END) <= $1`, n); err != nil {
		return fmt.Errorf("advance %s past %d: %w", seq, n, err)
	}
	return nil
}

// advancePast is advance for an explicit id, which moves the sequence only
// when made of digits.
func advancePast(ctx context.Context, q querier, seq, id string) error {
	if n, ok := numericID(id); ok {
		return advance(ctx, q, seq, n)
	}
	return nil
}

// numericID parses an id made only of digits that fits in an int64.
func numericID(id string) (int64, bool) {
	if id == "" {
		return 0, false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil
}
