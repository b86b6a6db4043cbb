package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"ptdesk/core/sandbox"
)

const webhookSecret = "Webhook7Secret4Qm3Vx9Lp2Rt5Wz8Nc4Hb"

// desk is a stand-in for PT Desk's listener: it keeps every body it gets
// and answers with the statuses it is given, then 200.
type desk struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	statuses []int
	got      chan struct{}
}

func newDesk(t *testing.T, statuses ...int) *desk {
	d := &desk{statuses: statuses, got: make(chan struct{}, 100)}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.bodies = append(d.bodies, b)
		status := http.StatusOK
		if len(d.statuses) > 0 {
			status, d.statuses = d.statuses[0], d.statuses[1:]
		}
		d.mu.Unlock()
		if status == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", status)
		} else {
			w.WriteHeader(status)
		}
		d.got <- struct{}{}
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *desk) received() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte{}, d.bodies...)
}

// clockAt is a clock the test moves.
type clockAt struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clockAt) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clockAt) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newSendingEnv is env with a sandbox that sends program webhooks to d.
func newSendingEnv(t *testing.T, d *desk, clock *clockAt) *env {
	t.Helper()
	e := &env{t: t, log: &syncBuffer{}, tokens: []string{keyAda, keyBob, keyAdaNew, webhookSecret}}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.sb = sandbox.New(sandbox.Options{Now: clock.now, Logger: logger, WebhookURL: d.URL, WebhookSecret: webhookSecret,
		WebhookRetryDelay: 20 * time.Millisecond, PDFLifetime: 24 * time.Hour})
	e.srv = httptest.NewServer(e.sb)
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.checkNoTokenSeen)
	return e
}

func newClockAt() *clockAt {
	return &clockAt{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.FixedZone("CET", 3600))}
}

func TestSendProgramPostsTheDocumentedWebhook(t *testing.T) {
	d := newDesk(t)
	clock := newClockAt()
	e := newSendingEnv(t, d, clock)
	b := e.browser()
	b.register("Ada", keyAda)
	b.open(keyAda, map[string]string{"id": "7", "first_name": "Grace", "last_name": "Hopper"})

	res := b.post("/sandbox/programs", url.Values{"token": {keyAda}, "patient_id": {"7"}, "name": {"Knee rehab"}, "updated": {"false"}})
	if res.status != http.StatusOK {
		t.Fatalf("status %d\n%s", res.status, res.body)
	}
	var answer struct {
		FileURL       string `json:"file_url"`
		WebhookStatus int    `json:"webhook_status"`
		RetryIn       string `json:"retry_in"`
	}
	if err := json.Unmarshal([]byte(res.body), &answer); err != nil {
		t.Fatal(err)
	}
	if answer.WebhookStatus != 200 || answer.RetryIn != "" {
		t.Fatalf("answer %+v, want the webhook's 200 and no retry", answer)
	}
	bodies := d.received()
	if len(bodies) != 1 {
		t.Fatalf("%d webhooks, want 1", len(bodies))
	}
	// The fields of PHYSITRACK.md section 4, in its order, with nothing
	// else.
	dec := json.NewDecoder(bytes.NewReader(bodies[0]))
	var keysInOrder []string
	tok, _ := dec.Token()
	for dec.More() {
		tok, _ = dec.Token()
		keysInOrder = append(keysInOrder, tok.(string))
		var skip json.RawMessage
		_ = dec.Decode(&skip)
	}
	if got := strings.Join(keysInOrder, ","); got != "api_key,token,patient_id,file_url,name,date,date_iso,updated" {
		t.Fatalf("webhook fields %s", got)
	}
	var hook map[string]any
	if err := json.Unmarshal(bodies[0], &hook); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"api_key": webhookSecret, "token": keyAda, "patient_id": "7", "file_url": answer.FileURL,
		"name": "Knee rehab", "date": "2026-03-14", "date_iso": "2026-03-14T09:30:00+01:00", "updated": false}
	for k, v := range want {
		if hook[k] != v {
			t.Errorf("%s = %v, want %v", k, hook[k], v)
		}
	}

	// The PDF is there for its lifetime, names client and program, and
	// is gone afterwards.
	link, err := url.Parse(answer.FileURL)
	if err != nil || !strings.HasPrefix(answer.FileURL, e.srv.URL+"/sandbox/files/") || len(link.Path) < len("/sandbox/files/")+64 {
		t.Fatalf("file_url %q is not an unguessable link on the sandbox", answer.FileURL)
	}
	pdf := b.get(link.Path)
	if pdf.status != http.StatusOK || pdf.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf.body, "%PDF-") {
		t.Fatalf("PDF: %d %s %.20q", pdf.status, pdf.header.Get("Content-Type"), pdf.body)
	}
	for _, s := range []string{"Knee rehab", "Grace Hopper", "Ada"} {
		if !strings.Contains(pdf.body, s) {
			t.Errorf("the PDF does not name %q", s)
		}
	}
	if got := e.sb.Deliveries(); len(got) != 1 || string(got[0].PDF) != pdf.body || got[0].Statuses[0] != 200 {
		t.Fatalf("deliveries %+v", got)
	}
	clock.advance(24*time.Hour - time.Second)
	if res := b.get(link.Path); res.status != http.StatusOK {
		t.Fatalf("PDF before the end of its lifetime: %d", res.status)
	}
	clock.advance(time.Second)
	if res := b.get(link.Path); res.status != http.StatusNotFound {
		t.Fatalf("PDF after its lifetime: %d, want 404", res.status)
	}
	if res := b.get("/sandbox/files/" + strings.Repeat("0", 64) + ".pdf"); res.status != http.StatusNotFound {
		t.Fatalf("a made-up link: %d, want 404", res.status)
	}
}

func TestSendProgramRetriesOnceWhenNot200(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		want     []int
	}{
		{"error then success", []int{500}, []int{500, 200}},
		{"a redirect is a failure", []int{302}, []int{302, 200}},
		{"two failures: no third try", []int{503, 503, 503}, []int{503, 503}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDesk(t, tt.statuses...)
			e := newSendingEnv(t, d, newClockAt())
			must(t, e.sb.RegisterPractitioner("Ada", keyAda))
			first, err := e.sb.SendProgram(context.Background(), e.srv.URL, sandbox.ProgramRequest{Token: keyAda, PatientID: "7", Name: "Hip"})
			must(t, err)
			if first.Statuses[0] != tt.want[0] {
				t.Fatalf("first answer %d, want %d", first.Statuses[0], tt.want[0])
			}
			for range tt.want[1:] {
				select {
				case <-d.got:
				case <-time.After(10 * time.Second):
					t.Fatal("no retry came")
				}
			}
			<-d.got // the first attempt's
			// Give a wrongly repeated retry ample time to show up.
			time.Sleep(200 * time.Millisecond)
			got := e.sb.Deliveries()[0].Statuses
			if len(got) != len(tt.want) || got[len(got)-1] != tt.want[len(tt.want)-1] {
				t.Fatalf("attempts %v, want %v", got, tt.want)
			}
			bodies := d.received()
			if len(bodies) != len(tt.want) || !bytes.Equal(bodies[0], bodies[len(bodies)-1]) {
				t.Fatalf("%d posts; the retry must repeat the same body", len(bodies))
			}
		})
	}
}

func TestSendProgramRefusals(t *testing.T) {
	d := newDesk(t)
	e := newSendingEnv(t, d, newClockAt())
	b := e.browser()
	b.register("Ada", keyAda)
	e.watch(keyBob)
	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"unknown token", url.Values{"token": {keyBob}, "patient_id": {"7"}, "name": {"Knee"}}, http.StatusForbidden},
		{"no name", url.Values{"token": {keyAda}, "patient_id": {"7"}}, http.StatusBadRequest},
		{"no patient", url.Values{"token": {keyAda}, "name": {"Knee"}}, http.StatusBadRequest},
		{"updated not a boolean", url.Values{"token": {keyAda}, "patient_id": {"7"}, "name": {"Knee"}, "updated": {"perhaps"}}, http.StatusBadRequest},
		{"name with a line break", url.Values{"token": {keyAda}, "patient_id": {"7"}, "name": {"Knee\nrehab"}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		if res := b.post("/sandbox/programs", tt.form); res.status != tt.status {
			t.Errorf("%s: status %d, want %d\n%s", tt.name, res.status, tt.status, res.body)
		}
	}
	if n := len(d.received()); n != 0 {
		t.Fatalf("%d webhooks sent for refused requests", n)
	}

	// Without a webhook URL the sandbox says how to set one.
	quiet := &env{t: t, log: &syncBuffer{}, tokens: []string{keyAda}}
	quiet.sb = sandbox.New(sandbox.Options{})
	quiet.srv = httptest.NewServer(quiet.sb)
	defer quiet.srv.Close()
	qb := quiet.browser()
	qb.register("Ada", keyAda)
	res := qb.post("/sandbox/programs", url.Values{"token": {keyAda}, "patient_id": {"7"}, "name": {"Knee"}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "--webhook-url") {
		t.Fatalf("without a webhook URL: %d %s", res.status, res.body)
	}
}

func TestClientPageAssignsAndUpdatesPrograms(t *testing.T) {
	d := newDesk(t)
	e := newSendingEnv(t, d, newClockAt())
	b := e.browser()
	b.register("Ada", keyAda)
	b.open(keyAda, map[string]string{"id": "7", "first_name": "Grace", "last_name": "Hopper"})
	page := b.get("/clients/7")
	for _, s := range []string{`action="/clients/7/programs"`, "Assign program", "Update program", `name="updated" value="true"`} {
		if !strings.Contains(page.body, s) {
			t.Fatalf("client page lacks %q", s)
		}
	}
	res := b.post("/clients/7/programs", url.Values{"name": {"Knee rehab"}, "updated": {"false"}})
	if res.status != http.StatusOK || !strings.Contains(res.body, "Assigned <strong>Knee rehab</strong>") ||
		!strings.Contains(res.body, "answered the webhook with 200") {
		t.Fatalf("assign: %d\n%s", res.status, res.body)
	}
	res = b.post("/clients/7/programs", url.Values{"name": {"Knee rehab"}, "updated": {"true"}})
	if res.status != http.StatusOK || !strings.Contains(res.body, "Updated <strong>Knee rehab</strong>") {
		t.Fatalf("update: %d\n%s", res.status, res.body)
	}
	bodies := d.received()
	if len(bodies) != 2 {
		t.Fatalf("%d webhooks, want 2", len(bodies))
	}
	var second map[string]any
	must(t, json.Unmarshal(bodies[1], &second))
	if second["updated"] != true || second["token"] != keyAda || second["patient_id"] != "7" {
		t.Fatalf("update webhook %v", second)
	}
	// Another practitioner's browser cannot send for a client not theirs.
	other := e.browser()
	other.register("Bob", keyBob)
	other.open(keyBob, map[string]string{"id": "8", "first_name": "Alan", "last_name": "Turing"})
	if res := other.post("/clients/7/programs", url.Values{"name": {"X"}}); res.status != http.StatusNotFound {
		t.Fatalf("sending for another account's client: %d", res.status)
	}
	if res := e.browser().post("/clients/7/programs", url.Values{"name": {"X"}}); res.status != http.StatusForbidden {
		t.Fatalf("sending without signing in: %d", res.status)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
