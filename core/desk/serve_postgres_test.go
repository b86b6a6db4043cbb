package desk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/postgres/pgtest"
	"ptdesk/core/programs"
	"ptdesk/core/secrets"
)

// TestServeOnPostgresLosesNoAcknowledgedWebhook runs what `ptdeskctl
// serve --db postgres://...` runs (OpenHome, then StartPrograms) and posts
// webhooks from several senders while the database's connections are cut
// twice, as a restart of the server cuts them. Restarting the real server
// would disturb every other user of it, so the test ends this schema's
// sessions instead (pg_terminate_backend, chosen by application_name):
// to the store that is the same event, every connection it holds dying
// at once. Every webhook answered 200 must be in the database, and the
// worker must file every one of them, its PDF in the database.
func TestServeOnPostgresLosesNoAcknowledgedWebhook(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	schema := pgtest.NewSchema(t)
	logs := &syncBuffer{}
	d, err := desk.OpenHome(ctx, desk.HomeOptions{Home: t.TempDir(), DB: schema.URL, Secrets: secrets.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	must(t, err)
	defer d.Close()

	pdf := []byte("%PDF-1.4 a program for the clinic")
	pdfs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	defer pdfs.Close()
	must(t, d.SetDownloadOrigins(ctx, []string{pdfs.URL}))
	pr, err := d.AddPractitioner(ctx, core.Practitioner{Name: "Dr Lee", Server: "uk"})
	must(t, err)
	key, _, err := d.SetNewKey(ctx, pr.ID)
	must(t, err)
	const patients = 10
	for i := range patients {
		_, _, err := d.AddPatient(ctx, core.Patient{FirstName: "Serve", LastName: "Patient" + strconv.Itoa(i)})
		must(t, err)
	}
	secret, err := d.GenerateWebhookSecret(ctx)
	must(t, err)
	srv, err := d.StartPrograms(ctx, desk.ProgramsOptions{Addr: "127.0.0.1:0",
		Worker: programs.WorkerOptions{PollInterval: 50 * time.Millisecond, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond}})
	must(t, err)
	defer srv.Close()

	const total, senders = 240, 4
	// Programs of today: a link older than a day counts as expired.
	created := time.Now().UTC().Truncate(time.Second)
	var (
		mu        sync.Mutex
		acked     = map[string]bool{} // file URLs answered 200
		afterLast atomic.Int64        // acknowledged after the last cut
		cuts      atomic.Int64
		refused   atomic.Int64
		wg        sync.WaitGroup
		client    = &http.Client{Timeout: 10 * time.Second}
		work      = make(chan int)
	)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fileURL := fmt.Sprintf("%s/p/%d.pdf", pdfs.URL, i)
				body, _ := json.Marshal(map[string]any{
					"api_key": secret, "token": key, "patient_id": strconv.Itoa(i%patients + 1),
					"file_url": fileURL, "name": fmt.Sprintf("Program %d", i),
					"date": created.Format(time.DateOnly), "date_iso": created.Add(time.Duration(i) * time.Second).Format(time.RFC3339), "updated": false,
				})
				res, err := client.Post(srv.URL(), "application/json", bytes.NewReader(body))
				if err != nil {
					refused.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					refused.Add(1)
					continue
				}
				mu.Lock()
				acked[fileURL] = true
				mu.Unlock()
				if cuts.Load() == 2 {
					afterLast.Add(1)
				}
			}
		}()
	}
	for i := range total {
		if i == total/3 || i == 2*total/3 {
			if schema.TerminateBackends(t) == 0 {
				t.Errorf("cut before webhook %d: no connection of the store to end", i)
			}
			cuts.Add(1)
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if afterLast.Load() == 0 {
		t.Fatalf("no webhook was acknowledged after the second cut (%d refused): the listener did not recover", refused.Load())
	}
	t.Logf("%d of %d webhooks acknowledged, %d refused (Physitrack would send those again)", len(acked), total, refused.Load())

	// Every acknowledged webhook is recorded, and gets filed.
	store := d.Store().(interface {
		core.ProgramStore
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		// One read of every state: an event filed between two reads
		// would be in neither.
		events, err := store.Inbox(ctx, core.InboxFilter{Statuses: []core.WebhookStatus{core.WebhookFiled, core.WebhookPending,
			core.WebhookUnmatched, core.WebhookRefused, core.WebhookExpired}, Limit: 10 * total})
		must(t, err)
		recorded := map[string]core.WebhookStatus{}
		var filed []*core.WebhookEvent
		for _, e := range events {
			recorded[e.FileURL] = e.Status
			if e.Status == core.WebhookFiled {
				filed = append(filed, e)
			}
		}
		for u := range acked {
			if _, ok := recorded[u]; !ok {
				t.Fatalf("webhook %s was answered 200 but is not in the database", u)
			}
		}
		missing := 0
		for u := range acked {
			if recorded[u] != core.WebhookFiled {
				missing++
			}
		}
		if missing == 0 {
			for _, e := range filed {
				got, err := store.ProgramPDF(ctx, e.ProgramID)
				must(t, err)
				if !bytes.Equal(got, pdf) {
					t.Fatalf("program %d: PDF in the database = %q", e.ProgramID, got)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			for _, e := range events {
				if e.Status != core.WebhookFiled {
					t.Logf("event %d: %s, %d attempts, next %v: %s", e.ID, e.Status, e.Attempts, e.NextAttemptAt, e.LastError)
				}
			}
			t.Fatalf("%d acknowledged webhooks still not filed; log:\n%s", missing, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
