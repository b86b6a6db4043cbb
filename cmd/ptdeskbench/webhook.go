package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"ptdesk/core"
	"ptdesk/core/keys"
	"ptdesk/core/programs"
	"ptdesk/core/sqlite"
)

// The webhook section measures how long Physitrack waits for PT Desk's 200:
// the listener records each event durably (committed and synced) before it
// answers, while the worker downloads and files the PDFs of earlier ones
// in the same process. A handler that answers 200 at once, served and
// loaded the same way in the same run, shows what the HTTP round trip
// alone costs on this machine; the ratio of the two p99s is the price of
// durability.
//
// PTDESKBENCH_WEBHOOK_DURATION (a Go duration such as 3s) shortens each
// run while developing; the default is webhookDuration.
const (
	webhookDuration    = 20 * time.Second
	webhookDurationEnv = "PTDESKBENCH_WEBHOOK_DURATION"
	webhookTargetP99   = 20 * time.Millisecond // at 200/s
	webhookSecret      = "Bench7Secret4Qm3Vx9Lp2Rt5Wz8Nc4Hb6Jd"
	webhookToken       = "BenchKey7Qm3Vx9Lp2Rt5Wz8Nc4Hb6Jd1F"
)

var webhookRates = []int{50, 200, 500}

// webhookRun is one load at one rate against one handler.
type webhookRun struct {
	sent, ok, errors int
	lat              latency
	max              time.Duration
	// filed and pending count the queue at the end of the run (durable
	// handler only): whether the worker keeps up.
	filed, pending int
}

func webhookSection(ctx context.Context, w io.Writer, o options) error {
	dur := webhookDuration
	if v := os.Getenv(webhookDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s: %q is not a positive duration", webhookDurationEnv, v)
		}
		dur = d
	}
	pdf := bytes.Repeat([]byte("x"), 20<<10)
	copy(pdf, "%PDF-1.4\n")
	pdfs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	defer pdfs.Close()
	noop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"recorded","id":1}` + "\n"))
	}))
	defer noop.Close()

	type row struct {
		rate           int
		durable, plain webhookRun
	}
	var rows []row
	for _, rate := range webhookRates {
		fmt.Fprintf(o.log, "webhook: %d/s for %s, no-op handler\n", rate, dur)
		plain, err := loadWebhooks(ctx, noop.URL, pdfs.URL, rate, dur)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.log, "webhook: %d/s for %s, durable listener\n", rate, dur)
		durable, err := durableRun(ctx, pdfs.URL, rate, dur)
		if err != nil {
			return err
		}
		rows = append(rows, row{rate, durable, plain})
	}

	fmt.Fprintf(w, "Acknowledgement latency of `POST /webhooks/physitrack`: from sending a webhook to reading PT Desk's answer, "+
		"over loopback, at a steady rate for %s per rate (an open loop: each webhook leaves on schedule, whatever the answers "+
		"before it). **Durable** is `programs.Start` on a fresh SQLite data directory: each 200 comes after the event is "+
		"committed with the WAL synced to disk, while the worker in the same process downloads and files the PDFs (20 KiB "+
		"each, from a local server). **No-op** is a handler that answers 200 at once, loaded the same way in the same run. "+
		"Client, servers and worker share this machine's cores.\n\n", dur)
	fmt.Fprintf(w, "| rate | durable p50 | durable p99 | durable max | errors | no-op p50 | no-op p99 | p99 ratio | filed by the end |\n")
	fmt.Fprintf(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rows {
		ratio := float64(r.durable.lat.p99) / float64(max(r.plain.lat.p99, time.Microsecond))
		fmt.Fprintf(w, "| %d/s | %s | %s | %s | %d of %s | %s | %s | %.1f× | %s of %s |\n", r.rate,
			ms(r.durable.lat.p50), ms(r.durable.lat.p99), ms(r.durable.max), r.durable.errors, thousands(r.durable.sent),
			ms(r.plain.lat.p50), ms(r.plain.lat.p99), ratio, thousands(r.durable.filed), thousands(r.durable.sent))
	}
	fmt.Fprintln(w)
	var at200, at500 webhookRun
	for _, r := range rows {
		switch r.rate {
		case 200:
			at200 = r.durable
		case 500:
			at500 = r.durable
		}
	}
	fmt.Fprintf(w, "Targets:\n\n")
	fmt.Fprintf(w, "- p99 ≤ %s at 200/s with durable recording: %s (%s)\n", ms(webhookTargetP99), verdict(at200.lat.p99 <= webhookTargetP99 && at200.sent > 0), ms(at200.lat.p99))
	fmt.Fprintf(w, "- no errors at 500/s: %s (%d errors of %s)\n", verdict(at500.errors == 0 && at500.sent > 0), at500.errors, thousands(at500.sent))
	return nil
}

// seedWebhookDirectory gives a fresh store what the webhooks sent at it
// name: the practitioner whose key they carry, patients 1 to 50, and the
// local PDF server among the download origins.
func seedWebhookDirectory(ctx context.Context, db core.Store, pdfOrigin string) error {
	lee := &core.Practitioner{Name: "Dr Lee", Server: "uk"}
	if err := db.CreatePractitioner(ctx, lee); err != nil {
		return err
	}
	if err := db.SetKeyInfo(ctx, lee.ID, keys.Describe(webhookToken, time.Now())); err != nil {
		return err
	}
	for i := 0; i < 50; i++ {
		if err := db.CreatePatient(ctx, &core.Patient{FirstName: "Bench", LastName: strconv.Itoa(i)}); err != nil {
			return err
		}
	}
	s, err := db.Settings(ctx)
	if err != nil {
		return err
	}
	s.DownloadOrigins = []string{pdfOrigin}
	return db.SaveSettings(ctx, s)
}

// durableRun loads a fresh data directory's listener at rate for dur.
func durableRun(ctx context.Context, pdfOrigin string, rate int, dur time.Duration) (webhookRun, error) {
	home, err := os.MkdirTemp("", "ptdeskbench-webhook-")
	if err != nil {
		return webhookRun{}, err
	}
	defer os.RemoveAll(home)
	db, err := sqlite.Open(ctx, filepath.Join(home, "ptdesk.db"))
	if err != nil {
		return webhookRun{}, err
	}
	defer db.Close()
	if err := seedWebhookDirectory(ctx, db, pdfOrigin); err != nil {
		return webhookRun{}, err
	}
	run, err := programs.Start(ctx, programs.Config{Store: db, Home: home, Secret: webhookSecret, Addr: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return webhookRun{}, err
	}
	res, err := loadWebhooks(ctx, run.URL(), pdfOrigin, rate, dur)
	if cerr := run.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return webhookRun{}, err
	}
	filed, err := db.Programs(ctx, "")
	if err != nil {
		return webhookRun{}, err
	}
	st, err := db.QueueStats(ctx)
	if err != nil {
		return webhookRun{}, err
	}
	res.filed, res.pending = len(filed), st.Pending
	return res, nil
}

// loadWebhooks posts rate distinct webhooks per second to url for dur and
// times each answer.
func loadWebhooks(ctx context.Context, url, pdfOrigin string, rate int, dur time.Duration) (webhookRun, error) {
	transport := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	n := int(float64(rate) * dur.Seconds())
	created := time.Now().UTC().Truncate(time.Second)
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i], _ = json.Marshal(map[string]any{
			"api_key": webhookSecret, "token": webhookToken, "patient_id": strconv.Itoa(i%50 + 1),
			"file_url": fmt.Sprintf("%s/p/%d.pdf", pdfOrigin, i), "name": fmt.Sprintf("Program %d", i),
			"date": created.Format(time.DateOnly), "date_iso": created.Format(time.RFC3339), "updated": false,
		})
	}
	var (
		mu     sync.Mutex
		lats   = make([]time.Duration, 0, n)
		errs   atomic.Int64
		wg     sync.WaitGroup
		okN    atomic.Int64
		period = time.Second / time.Duration(rate)
	)
	start := time.Now()
	for i := 0; i < n; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * period)); wait > 0 {
			select {
			case <-ctx.Done():
				return webhookRun{}, ctx.Err()
			case <-time.After(wait):
			}
		}
		wg.Add(1)
		go func(body []byte) {
			defer wg.Done()
			t0 := time.Now()
			res, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				errs.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			el := time.Since(t0)
			if res.StatusCode != http.StatusOK {
				errs.Add(1)
				return
			}
			okN.Add(1)
			mu.Lock()
			lats = append(lats, el)
			mu.Unlock()
		}(bodies[i])
	}
	wg.Wait()
	r := webhookRun{sent: n, ok: int(okN.Load()), errors: int(errs.Load())}
	if len(lats) > 0 {
		sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
		r.max = lats[len(lats)-1]
		r.lat = percentiles(lats)
	}
	return r, nil
}
