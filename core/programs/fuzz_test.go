package programs_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"ptdesk/core"
	"ptdesk/core/programs"
)

// memoryRecorder records events in memory, so the fuzzer spends its time
// in the handler.
type memoryRecorder struct {
	mu sync.Mutex
	n  int64
}

func (m *memoryRecorder) RecordWebhooks(_ context.Context, es []*core.WebhookEvent) ([]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range es {
		if e.TokenHash == "" || e.PatientID == "" || e.FileURL == "" || e.Name == "" || e.Date == "" || e.DateISO.IsZero() {
			panic("the handler let an incomplete event through")
		}
		m.n++
		e.ID = m.n
	}
	return make([]bool, len(es)), nil
}

// FuzzWebhook throws arbitrary bodies and content types at the webhook
// handler: it must never panic, and must answer 200 (recorded) or a 4xx
// refusal, nothing else.
func FuzzWebhook(f *testing.F) {
	valid := `{"api_key":"` + testSecret + `","token":"` + keyLee + `","patient_id":"1","file_url":"https://uk.physitrack.com/p/1",` +
		`"name":"Knee rehab","date":"2026-03-14","date_iso":"2026-03-14T09:30:00+01:00","updated":false}`
	seeds := []struct{ body, ct string }{
		{valid, "application/json"},
		{valid, "application/json; charset=utf-8"},
		{valid, "text/plain"},
		{`{"api_key":"` + testSecret + `","patient_id":42,"updated":"true"}`, "application/json"},
		{`{"api_key":"` + testSecret + `","token":"","patient_id":null}`, "application/json"},
		{`{"api_key":"` + testSecret + `","name":["x"],"date_iso":"2026-13-40T99:00:00Z"}`, "application/json"},
		{`{"api_key":"` + testSecret + `","token":"t","patient_id":"\u0000","file_url":"https://\u2028/","name":"\ud800","date":"2026-02-30","date_iso":"2026-03-14T09:30:00Z"}`, "application/json"},
		{`[]`, "application/json"},
		{`null`, "application/json"},
		{`{"api_key":1e999}`, "application/json"},
		{``, ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.ct)
	}
	rec, err := programs.NewReceiver(programs.ReceiverOptions{Store: &memoryRecorder{}, Secret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest(http.MethodPost, programs.DefaultPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		rec.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("status %d for %q (%s)", w.Code, body, contentType)
		}
		if bytes.Contains(w.Body.Bytes(), []byte(testSecret)) || bytes.Contains(w.Body.Bytes(), []byte(keyLee)) {
			t.Fatal("the answer repeats a secret")
		}
	})
}
