package desk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/postgres"
	"ptdesk/core/postgres/pgtest"
	"ptdesk/core/secrets"
)

func getHealth(t *testing.T, d *desk.Desk) (int, desk.Health) {
	t.Helper()
	rec := httptest.NewRecorder()
	d.HealthHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var h desk.Health
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil {
		t.Fatalf("health body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, h
}

func TestHealthOnADesk(t *testing.T) {
	f := newFixture(t)
	code, h := getHealth(t, f.desk)
	if code != http.StatusOK || !h.OK || h.Database != "sqlite" || h.QueuePending != 0 {
		t.Fatalf("health = %d %+v", code, h)
	}
}

func TestHealthOnAClinicDatabase(t *testing.T) {
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.URL(t))
	must(t, err)
	d := desk.New(desk.Options{Store: store, Secrets: secrets.NewMemory(), Home: t.TempDir()})
	received := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	_, err = store.RecordWebhook(ctx, &core.WebhookEvent{ReceivedAt: received, TokenHash: "h", PatientID: "1",
		FileURL: "https://uk.physitrack.com/p/1", Name: "Knee", DateISO: received})
	must(t, err)
	code, h := getHealth(t, d)
	if code != http.StatusOK || !h.OK || h.Database != "postgres" || h.QueuePending != 1 || !h.OldestPending.Equal(received) {
		t.Fatalf("health = %d %+v; want 200, one pending since %v", code, h, received)
	}
	must(t, d.Close()) // the database is gone for this desk
	code, h = getHealth(t, d)
	if code != http.StatusServiceUnavailable || h.OK || h.DatabaseReachable || h.Error == "" {
		t.Fatalf("health without a database = %d %+v; want 503 saying why", code, h)
	}
}
