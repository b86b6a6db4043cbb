package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/sqlite"
)

// TestRecordWebhookConcurrentWriters records the same deliveries from two
// connections of two handles on one file at once: each event ends up
// recorded exactly once, whichever writer wins.
func TestRecordWebhookConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ptdesk.db")
	a := mustOpenAt(t, path)
	b := mustOpenAt(t, path)
	const n = 40
	base := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	ids := make([][2]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		for j, db := range []*sqlite.DB{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := &core.WebhookEvent{TokenHash: "hash", PatientID: "1", FileURL: "https://x.physitrack.com/" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
					Name: "Knee", Date: "2026-03-14", DateISO: base.Add(time.Duration(i) * time.Minute)}
				if _, err := db.RecordWebhook(ctx, e); err != nil {
					t.Error(err)
					return
				}
				ids[i][j] = e.ID
			}()
		}
	}
	wg.Wait()
	for i, pair := range ids {
		if pair[0] == 0 || pair[0] != pair[1] {
			t.Fatalf("delivery %d recorded as %v by the two writers, want one id", i, pair)
		}
	}
	all, err := a.Inbox(ctx, core.InboxFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("%d events stored, want %d", len(all), n)
	}
}
