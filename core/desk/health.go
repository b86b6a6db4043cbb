package desk

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"ptdesk/core"
)

// Health is what the clinic server reports at GET /healthz, for a monitor
// (or a person with curl) to see that webhooks can be received and filed:
// whether the database answers, and how far behind the queue is.
type Health struct {
	OK bool `json:"ok"`
	// Database is "sqlite" or "postgres".
	Database          string `json:"database"`
	DatabaseReachable bool   `json:"database_reachable"`
	// QueuePending counts program webhooks waiting to be filed;
	// OldestPending is when the oldest of them arrived.
	QueuePending  int       `json:"queue_pending"`
	OldestPending time.Time `json:"oldest_pending,omitzero"`
	// Error says what is wrong, for people; never a secret.
	Error string `json:"error,omitempty"`
}

// HealthTimeout bounds how long a health check waits for the database.
const HealthTimeout = 3 * time.Second

// Health checks the database and the program queue.
func (d *Desk) Health(ctx context.Context) Health {
	ctx, cancel := context.WithTimeout(ctx, HealthTimeout)
	defer cancel()
	h := Health{Database: "sqlite"}
	if _, ok := d.store.(core.ChangeFeed); ok {
		h.Database = "postgres"
	}
	ps, err := d.programStore()
	if err != nil {
		h.Error = core.ErrorMessage(err)
		return h
	}
	st, err := ps.QueueStats(ctx)
	if err != nil {
		h.Error = core.ErrorMessage(err)
		return h
	}
	h.OK, h.DatabaseReachable = true, true
	h.QueuePending, h.OldestPending = st.Pending, st.OldestPending
	return h
}

// HealthHandler serves Health as JSON: 200 when the database answers, 503
// when it does not, so that a load balancer or monitor needs only the
// status code. It is meant for GET /healthz beside the webhook's path.
func (d *Desk) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := d.Health(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !h.OK {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(h)
	})
}
