package programs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"ptdesk/core"
	"ptdesk/core/programs"
)

func TestReceiverRefusesAndStoresNothing(t *testing.T) {
	e := newEnv(t, envOptions{})
	valid := e.hookFor("https://uk.physitrack.com/pdf/1", "Knee rehab")
	encode := func(change func(m map[string]any)) []byte {
		b, _ := json.Marshal(valid)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		change(m)
		out, _ := json.Marshal(m)
		return out
	}
	tests := []struct {
		name        string
		body        []byte
		contentType string
		status      int
		reason      string
	}{
		{"wrong api_key", encode(func(m map[string]any) { m["api_key"] = testSecret + "x" }), "application/json", 401, "api_key"},
		{"missing api_key", encode(func(m map[string]any) { delete(m, "api_key") }), "application/json", 401, "api_key"},
		{"api_key of the wrong type", encode(func(m map[string]any) { m["api_key"] = 42 }), "application/json", 401, "api_key"},
		{"not JSON", []byte(`api_key=` + testSecret), "application/x-www-form-urlencoded", 415, "JSON"},
		{"no content type", encode(func(map[string]any) {}), "", 415, "JSON"},
		{"malformed JSON", []byte(`{"api_key": "` + testSecret + `", "token": `), "application/json", 400, "not valid JSON"},
		{"trailing garbage", append(encode(func(map[string]any) {}), []byte("}")...), "application/json", 400, "not valid JSON"},
		{"oversize", encode(func(m map[string]any) { m["padding"] = strings.Repeat("x", programs.MaxWebhookBytes) }), "application/json", 413, "larger"},
		{"missing token", encode(func(m map[string]any) { delete(m, "token") }), "application/json", 400, "token is required"},
		{"empty name", encode(func(m map[string]any) { m["name"] = "  " }), "application/json", 400, "name is required"},
		{"missing patient_id", encode(func(m map[string]any) { delete(m, "patient_id") }), "application/json", 400, "patient_id is required"},
		{"patient_id a fraction", encode(func(m map[string]any) { m["patient_id"] = 1.5 }), "application/json", 400, "patient_id"},
		{"name of the wrong type", encode(func(m map[string]any) { m["name"] = 7 }), "application/json", 400, "name has the wrong type"},
		{"relative file_url", encode(func(m map[string]any) { m["file_url"] = "/pdf/1" }), "application/json", 400, "file_url"},
		{"bad date", encode(func(m map[string]any) { m["date"] = "14/03/2026" }), "application/json", 400, "YYYY-MM-DD"},
		{"date_iso without zone", encode(func(m map[string]any) { m["date_iso"] = "2026-03-14T09:30:00" }), "application/json", 400, "RFC 3339"},
		{"updated not a boolean", encode(func(m map[string]any) { m["updated"] = "maybe" }), "application/json", 400, "updated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, ans := e.post(tt.body, tt.contentType)
			if status != tt.status {
				t.Fatalf("status %d (%v), want %d", status, ans, tt.status)
			}
			if reason, _ := ans["error"].(string); !strings.Contains(reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", reason, tt.reason)
			}
		})
	}
	all, err := e.store.Inbox(context.Background(), core.InboxFilter{})
	must(t, err)
	if len(all) != 0 {
		t.Fatalf("refused webhooks stored %d events", len(all))
	}
}

func TestReceiverRecordsOnceAndAnswersDuplicates(t *testing.T) {
	e := newEnv(t, envOptions{})
	h := e.hookFor("https://uk.physitrack.com/pdf/1?signature=abc", "Knee rehab")
	first := e.send(h)
	again := e.send(h)
	if again != first {
		t.Fatalf("redelivery got event %d, want the first one's %d", again, first)
	}
	// A numeric patient id and unknown fields are fine.
	body := `{"api_key":"` + testSecret + `","token":"` + keyLee + `","patient_id":12,"file_url":"https://uk.physitrack.com/pdf/2",` +
		`"name":"Shoulder","date":"2026-03-14","date_iso":"2026-03-14T10:30:00+01:00","updated":"true","program_id":99,"extra":{"a":[1]}}`
	status, ans := e.post([]byte(body), "application/json; charset=utf-8")
	if status != http.StatusOK {
		t.Fatalf("status %d %v", status, ans)
	}
	ev := e.event(int64(ans["id"].(float64)))
	if ev.PatientID != "12" || !ev.Updated || ev.Status != core.WebhookPending || ev.TokenHash == "" ||
		ev.DateISO.UTC().Hour() != 9 || ev.Name != "Shoulder" {
		t.Fatalf("recorded %+v", ev)
	}
	if strings.Contains(ev.TokenHash, keyLee) {
		t.Fatal("the token was stored")
	}
	all, err := e.store.Inbox(context.Background(), core.InboxFilter{})
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("%d events stored, want 2", len(all))
	}
	if strings.Contains(e.log.String(), "signature=abc") {
		t.Error("the file URL's signature was logged")
	}
}

func TestReceiverAnswers503WhenTheStoreFails(t *testing.T) {
	e := newEnv(t, envOptions{})
	rec, err := programs.NewReceiver(programs.ReceiverOptions{Store: failingRecorder{}, Secret: testSecret})
	must(t, err)
	b, _ := json.Marshal(e.hookFor("https://uk.physitrack.com/pdf/1", "Knee"))
	req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	rec.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 so that Physitrack retries", w.Code)
	}
}

func TestNewReceiverNeedsASecret(t *testing.T) {
	_, err := programs.NewReceiver(programs.ReceiverOptions{Store: failingRecorder{}})
	if core.ErrorCode(err) != core.EUNAUTHORIZED || !strings.Contains(core.ErrorMessage(err), "webhook secret --generate") {
		t.Fatalf("err = %v, want EUNAUTHORIZED saying how to set one", err)
	}
}

type failingRecorder struct{}

func (failingRecorder) RecordWebhooks(context.Context, []*core.WebhookEvent) ([]bool, error) {
	return nil, context.DeadlineExceeded
}

// TestReceiverConcurrentDeliveries sends many webhooks at once, each
// twice: group commit records each event exactly once and answers both
// deliveries with its id.
func TestReceiverConcurrentDeliveries(t *testing.T) {
	e := newEnv(t, envOptions{})
	const n = 60
	ids := make([][2]float64, n)
	var wg sync.WaitGroup
	for i := range n {
		b, _ := json.Marshal(e.hookFor("https://uk.physitrack.com/pdf/"+strconv.Itoa(i), "Program "+strconv.Itoa(i)))
		for j := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, ans := e.post(b, "application/json")
				if status != http.StatusOK {
					t.Errorf("status %d %v", status, ans)
					return
				}
				ids[i][j] = ans["id"].(float64)
			}()
		}
	}
	wg.Wait()
	seen := map[float64]bool{}
	for i, pair := range ids {
		if pair[0] == 0 || pair[0] != pair[1] || seen[pair[0]] {
			t.Fatalf("webhook %d answered with ids %v", i, pair)
		}
		seen[pair[0]] = true
	}
	all, err := e.store.Inbox(context.Background(), core.InboxFilter{Limit: 1000})
	must(t, err)
	if len(all) != n {
		t.Fatalf("%d events stored, want %d", len(all), n)
	}
}
