package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ptdesk/core"
)

// ProgramBackend is any store: every core.Store keeps the webhook queue.
type ProgramBackend = core.Store

// RunPrograms runs the contract of core.ProgramStore against fresh stores
// made by open (same rules as Run's open). Beyond what package core
// documents it assumes event and program ids increase in the order they
// are recorded.
func RunPrograms(t *testing.T, open func(t *testing.T) ProgramBackend) {
	t.Run("RecordAndRead", func(t *testing.T) { programsRecordAndRead(t, open(t)) })
	t.Run("Dedupe", func(t *testing.T) { programsDedupe(t, open(t)) })
	t.Run("Batch", func(t *testing.T) { programsBatch(t, open(t)) })
	t.Run("Due", func(t *testing.T) { programsDue(t, open(t)) })
	t.Run("Update", func(t *testing.T) { programsUpdate(t, open(t)) })
	t.Run("Lease", func(t *testing.T) { programsLease(t, open(t)) })
	t.Run("File", func(t *testing.T) { programsFile(t, open(t)) })
	t.Run("Inbox", func(t *testing.T) { programsInbox(t, open(t)) })
}

// event is a webhook as a receiver records it; n makes it distinct.
func event(n int) *core.WebhookEvent {
	return &core.WebhookEvent{
		ReceivedAt: base.Add(time.Duration(n) * time.Second),
		TokenHash:  fmt.Sprintf("%064x", 1000+n),
		PatientID:  "P-1",
		FileURL:    fmt.Sprintf("https://uk.physitrack.com/pdf/%d?sig=abc", n),
		Name:       fmt.Sprintf("Knee rehab %d", n),
		Date:       "2026-03-14",
		DateISO:    time.Date(2026, 3, 14, 10, 0, n, 0, time.FixedZone("CET", 3600)),
	}
}

func record(t *testing.T, s ProgramBackend, e *core.WebhookEvent) *core.WebhookEvent {
	t.Helper()
	dup, err := s.RecordWebhook(context.Background(), e)
	if err != nil {
		t.Fatalf("record webhook %q: %v", e.Name, err)
	}
	if dup {
		t.Fatalf("record webhook %q: reported a duplicate of %d", e.Name, e.ID)
	}
	return e
}

// sameEvent fails unless got holds want's fields, comparing times as
// instants.
func sameEvent(t *testing.T, got, want *core.WebhookEvent) {
	t.Helper()
	g, w := *got, *want
	if !g.ReceivedAt.Equal(w.ReceivedAt) || !g.DateISO.Equal(w.DateISO) || !g.NextAttemptAt.Equal(w.NextAttemptAt) {
		t.Errorf("event %d times = %v/%v/%v, want %v/%v/%v", w.ID, g.ReceivedAt, g.DateISO, g.NextAttemptAt,
			w.ReceivedAt, w.DateISO, w.NextAttemptAt)
	}
	g.ReceivedAt, g.DateISO, g.NextAttemptAt = time.Time{}, time.Time{}, time.Time{}
	w.ReceivedAt, w.DateISO, w.NextAttemptAt = time.Time{}, time.Time{}, time.Time{}
	if g != w {
		t.Errorf("event = %+v\nwant    %+v", g, w)
	}
}

func programsRecordAndRead(t *testing.T, s ProgramBackend) {
	ctx := context.Background()
	e := event(1)
	e.Updated = true
	record(t, s, e)
	if e.ID == 0 || e.Status != core.WebhookPending || !e.NextAttemptAt.Equal(e.ReceivedAt) {
		t.Fatalf("recorded id=%d status=%q next=%v; want an id, pending, next attempt = received", e.ID, e.Status, e.NextAttemptAt)
	}
	got, err := s.Webhook(ctx, e.ID)
	must(t, err)
	sameEvent(t, got, e)
	if got.TokenHash != e.TokenHash || !got.Updated || got.Attempts != 0 {
		t.Fatalf("read back %+v", got)
	}

	// An event recorded unmatched stays so, with its reason.
	u := event(2)
	u.Status, u.LastError = core.WebhookUnmatched, "no such patient"
	record(t, s, u)
	got, err = s.Webhook(ctx, u.ID)
	must(t, err)
	if got.Status != core.WebhookUnmatched || got.LastError != "no such patient" || u.ID <= e.ID {
		t.Fatalf("unmatched event read back as %+v (id after %d)", got, e.ID)
	}

	_, err = s.Webhook(ctx, 9999)
	wantCode(t, err, core.ENOTFOUND, "id")
	_, err = s.RecordWebhook(ctx, &core.WebhookEvent{PatientID: "1", FileURL: "https://x", Name: "n"})
	if core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("event without a token hash: err = %v, want EINVALID", err)
	}
}

func programsDedupe(t *testing.T, s ProgramBackend) {
	ctx := context.Background()
	first := record(t, s, event(1))
	tests := []struct {
		name   string
		change func(e *core.WebhookEvent)
		dup    bool
	}{
		{"same delivery again", func(*core.WebhookEvent) {}, true},
		{"same file URL, other name", func(e *core.WebhookEvent) { e.Name = "Renamed" }, true},
		{"same name and creation time, new URL", func(e *core.WebhookEvent) { e.FileURL += "&retry=1" }, true},
		{"same instant written in another zone", func(e *core.WebhookEvent) {
			e.FileURL += "&zone=1"
			e.DateISO = e.DateISO.In(time.FixedZone("EST", -5*3600))
		}, true},
		{"same name and creation time, but an update", func(e *core.WebhookEvent) {
			e.FileURL += "&update=1"
			e.Updated = true
		}, false},
		{"another practitioner's key", func(e *core.WebhookEvent) { e.TokenHash = fmt.Sprintf("%064x", 7) }, false},
		{"another patient", func(e *core.WebhookEvent) { e.PatientID = "P-2" }, false},
		{"an update: new URL and time", func(e *core.WebhookEvent) {
			e.FileURL += "&v=2"
			e.DateISO = e.DateISO.Add(time.Hour)
			e.Updated = true
		}, false},
	}
	distinct := 1
	for _, tt := range tests {
		e := event(1)
		e.ReceivedAt = e.ReceivedAt.Add(time.Minute)
		tt.change(e)
		dup, err := s.RecordWebhook(ctx, e)
		must(t, err)
		if dup != tt.dup {
			t.Errorf("%s: duplicate = %v, want %v", tt.name, dup, tt.dup)
			continue
		}
		if dup && e.ID != first.ID {
			t.Errorf("%s: duplicate of %d, want %d", tt.name, e.ID, first.ID)
		}
		if !dup {
			distinct++
			if e.ID == first.ID {
				t.Errorf("%s: new event got the first one's id", tt.name)
			}
		}
	}
	all, err := s.Inbox(ctx, core.InboxFilter{})
	must(t, err)
	if len(all) != distinct {
		t.Fatalf("%d events stored, want %d", len(all), distinct)
	}
	got, err := s.Webhook(ctx, first.ID)
	must(t, err)
	sameEvent(t, got, first) // a duplicate changes nothing
}

func programsBatch(t *testing.T, s ProgramBackend) {
	ctx := context.Background()
	first := record(t, s, event(1))
	a, again, redelivered := event(2), event(2), event(1)
	dups, err := s.RecordWebhooks(ctx, []*core.WebhookEvent{a, redelivered, again})
	must(t, err)
	if fmt.Sprint(dups) != "[false true true]" {
		t.Fatalf("duplicates = %v, want [false true true] (a repeat inside the batch counts too)", dups)
	}
	if a.ID == 0 || a.ID == first.ID || redelivered.ID != first.ID || again.ID != a.ID {
		t.Fatalf("ids = %d, %d, %d; want new, %d, the new one again", a.ID, redelivered.ID, again.ID, first.ID)
	}
	// A batch with a bad event records nothing.
	bad := &core.WebhookEvent{PatientID: "1", FileURL: "https://x", Name: "n"}
	if _, err := s.RecordWebhooks(ctx, []*core.WebhookEvent{event(3), bad}); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("batch with an event without a token hash: %v, want EINVALID", err)
	}
	all, err := s.Inbox(ctx, core.InboxFilter{})
	must(t, err)
	if len(all) != 2 {
		t.Fatalf("%d events stored, want 2", len(all))
	}
}

func programsDue(t *testing.T, s ProgramBackend) {
	ctx := context.Background()
	a := record(t, s, event(1))
	b := event(2)
	b.NextAttemptAt = base.Add(time.Hour)
	record(t, s, b)
	c := record(t, s, event(3))
	d := event(4)
	d.Status = core.WebhookUnmatched
	record(t, s, d)

	ids := func(es []*core.WebhookEvent) string {
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return fmt.Sprint(out)
	}
	due, err := s.DueWebhooks(ctx, base.Add(time.Minute), 10)
	must(t, err)
	if got, want := ids(due), fmt.Sprint([]int64{a.ID, c.ID}); got != want {
		t.Fatalf("due now = %v, want %v (pending and due, oldest first)", got, want)
	}
	due, err = s.DueWebhooks(ctx, base.Add(2*time.Hour), 2)
	must(t, err)
	if got, want := ids(due), fmt.Sprint([]int64{a.ID, b.ID}); got != want {
		t.Fatalf("due later, limit 2 = %v, want %v", got, want)
	}
	st, err := s.QueueStats(ctx)
	must(t, err)
	if st.Pending != 3 || !st.OldestPending.Equal(a.ReceivedAt) {
		t.Fatalf("queue stats = %+v, want 3 pending, oldest %v", st, a.ReceivedAt)
	}
}

func programsUpdate(t *testing.T, s ProgramBackend) {
	ctx := context.Background()
	e := record(t, s, event(1))
	e.Status, e.Attempts, e.LastError = core.WebhookPending, 3, "the server answered 503"
	e.NextAttemptAt = base.Add(90 * time.Second)
	e.PractitionerID, e.AssignedPatientID = "7", "P-9"
	must(t, s.UpdateWebhook(ctx, e))
	got, err := s.Webhook(ctx, e.ID)
	must(t, err)
	sameEvent(t, got, e)

	for _, st := range []core.WebhookStatus{core.WebhookRefused, core.WebhookExpired, core.WebhookUnmatched} {
		e.Status = st
		must(t, s.UpdateWebhook(ctx, e))
		got, err := s.Webhook(ctx, e.ID)
		must(t, err)
		if got.Status != st {
			t.Fatalf("status = %q after update to %q", got.Status, st)
		}
	}

	e.Status = core.WebhookFiled
	if err := s.UpdateWebhook(ctx, e); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("update to filed: %v, want EINVALID (only FileProgram files)", err)
	}
	missing := *e
	missing.ID, missing.Status = 9999, core.WebhookPending
	wantCode(t, s.UpdateWebhook(ctx, &missing), core.ENOTFOUND, "id")

	e.Status = core.WebhookPending
	must(t, s.UpdateWebhook(ctx, e))
	p := &core.Program{PatientID: "P-9", Name: e.Name, Date: e.Date, CreatedAt: e.DateISO, Version: 1,
		Path: "programs/P-9/a.pdf", SHA256: "ab", Size: 2}
	must(t, s.FileProgram(ctx, e.ID, p, nil))
	wantCode(t, s.UpdateWebhook(ctx, e), core.ECONFLICT, "status")
}

func programsLease(t *testing.T, s ProgramBackend) {
	ctx := context.Background()
	ttl := 30 * time.Second
	acquire := func(owner string, at time.Time, want bool) {
		t.Helper()
		ok, err := s.AcquireWorkerLease(ctx, owner, at, ttl)
		must(t, err)
		if ok != want {
			t.Fatalf("%s acquires at +%v: %v, want %v", owner, at.Sub(base), ok, want)
		}
	}
	acquire("a", base, true)
	acquire("b", base.Add(time.Second), false)
	acquire("a", base.Add(20*time.Second), true) // renews until +50s
	acquire("b", base.Add(40*time.Second), false)
	must(t, s.ReleaseWorkerLease(ctx, "b")) // not b's: nothing happens
	acquire("b", base.Add(45*time.Second), false)
	acquire("b", base.Add(51*time.Second), true) // a's lease ran out
	acquire("a", base.Add(52*time.Second), false)
	must(t, s.ReleaseWorkerLease(ctx, "b"))
	acquire("a", base.Add(53*time.Second), true)
}

func programsFile(t *testing.T, s ProgramBackend) {
	ctx := context.Background()
	first := record(t, s, event(1))
	v, err := s.NextProgramVersion(ctx, "P-1", first.Name)
	must(t, err)
	if v != 1 {
		t.Fatalf("first version = %d, want 1", v)
	}
	p1 := &core.Program{PatientID: "P-1", PractitionerID: "3", Name: first.Name, Date: first.Date,
		CreatedAt: first.DateISO, Version: 1, Path: "programs/P-1/2026-03-14_Knee rehab 1.pdf",
		SHA256: "aa11", Size: 1234, FiledAt: base.Add(time.Hour)}
	must(t, s.FileProgram(ctx, first.ID, p1, nil))
	if p1.ID == 0 || p1.EventID != first.ID {
		t.Fatalf("filed program id=%d event=%d", p1.ID, p1.EventID)
	}
	ev, err := s.Webhook(ctx, first.ID)
	must(t, err)
	if ev.Status != core.WebhookFiled || ev.ProgramID != p1.ID || ev.LastError != "" || ev.PractitionerID != "3" {
		t.Fatalf("event after filing = %+v, want filed with program %d", ev, p1.ID)
	}
	again := *p1
	wantCode(t, s.FileProgram(ctx, first.ID, &again, nil), core.ECONFLICT, "event_id")

	// An update of the same program is the next version; the shared
	// store's way keeps the PDF itself.
	upd := event(2)
	upd.Name, upd.Updated = first.Name, true
	record(t, s, upd)
	v, err = s.NextProgramVersion(ctx, "P-1", first.Name)
	must(t, err)
	if v != 2 {
		t.Fatalf("version after one filed = %d, want 2", v)
	}
	clash := &core.Program{PatientID: "P-1", Name: first.Name, Date: upd.Date, CreatedAt: upd.DateISO, Version: 1,
		Path: "programs/P-1/other.pdf", SHA256: "bb", Size: 1}
	wantCode(t, s.FileProgram(ctx, upd.ID, clash, nil), core.ECONFLICT, "version")
	pdf := []byte("%PDF-1.4 in the store")
	p2 := &core.Program{PatientID: "P-1", Name: first.Name, Date: upd.Date, CreatedAt: upd.DateISO, Updated: true,
		Version: 2, SHA256: "bb22", Size: int64(len(pdf))}
	must(t, s.FileProgram(ctx, upd.ID, p2, pdf))

	other := record(t, s, event(3))
	other.PatientID = "P-2"
	p3 := &core.Program{PatientID: "P-2", Name: other.Name, Date: other.Date, CreatedAt: other.DateISO.Add(-48 * time.Hour),
		Version: 1, Path: "programs/P-2/x.pdf", SHA256: "cc", Size: 3}
	must(t, s.FileProgram(ctx, other.ID, p3, nil))

	progIDs := func(ps []*core.Program) string {
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return fmt.Sprint(out)
	}
	list, err := s.Programs(ctx, "P-1")
	must(t, err)
	if got, want := progIDs(list), fmt.Sprint([]int64{p2.ID, p1.ID}); got != want {
		t.Fatalf("programs of P-1 = %v, want %v (newest first)", got, want)
	}
	got := list[1]
	if got.Name != p1.Name || got.PractitionerID != "3" || got.Path != p1.Path || got.SHA256 != "aa11" || got.Size != 1234 ||
		got.Version != 1 || got.Updated || !got.CreatedAt.Equal(first.DateISO) || !got.FiledAt.Equal(p1.FiledAt) || got.Date != "2026-03-14" {
		t.Fatalf("program read back = %+v, want %+v", got, p1)
	}
	if !list[0].Updated || list[0].Version != 2 || list[0].Path != "" {
		t.Fatalf("update read back = %+v", list[0])
	}
	all, err := s.Programs(ctx, "")
	must(t, err)
	if got, want := progIDs(all), fmt.Sprint([]int64{p2.ID, p1.ID, p3.ID}); got != want {
		t.Fatalf("all programs = %v, want %v (newest creation first)", got, want)
	}
	after, err := s.ProgramsAfter(ctx, p1.ID, 10)
	must(t, err)
	if got, want := progIDs(after), fmt.Sprint([]int64{p2.ID, p3.ID}); got != want {
		t.Fatalf("programs after %d = %v, want %v (filing order)", p1.ID, got, want)
	}
	after, err = s.ProgramsAfter(ctx, 0, 1)
	must(t, err)
	if got, want := progIDs(after), fmt.Sprint([]int64{p1.ID}); got != want {
		t.Fatalf("first program after 0 = %v, want %v", got, want)
	}
	one, err := s.Program(ctx, p3.ID)
	must(t, err)
	if one.PatientID != "P-2" || one.EventID != other.ID {
		t.Fatalf("program %d = %+v", p3.ID, one)
	}
	_, err = s.Program(ctx, 9999)
	wantCode(t, err, core.ENOTFOUND, "id")

	b, err := s.ProgramPDF(ctx, p2.ID)
	must(t, err)
	if string(b) != string(pdf) {
		t.Fatalf("PDF from the store = %q, want %q", b, pdf)
	}
	_, err = s.ProgramPDF(ctx, p1.ID)
	wantCode(t, err, core.ENOTFOUND, "pdf")
	_, err = s.ProgramPDF(ctx, 9999)
	wantCode(t, err, core.ENOTFOUND, "id")

	bad := record(t, s, event(4))
	if err := s.FileProgram(ctx, bad.ID, &core.Program{PatientID: "P-1", Name: "x", Version: 1, SHA256: "dd"}, nil); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("program with neither path nor PDF: %v, want EINVALID", err)
	}
	wantCode(t, s.FileProgram(ctx, 9999, &core.Program{PatientID: "P-1", Name: "x", Version: 1, SHA256: "dd", Path: "p"}, nil),
		core.ENOTFOUND, "id")
}

func programsInbox(t *testing.T, s ProgramBackend) {
	ctx := context.Background()
	var es []*core.WebhookEvent
	statuses := []core.WebhookStatus{core.WebhookPending, core.WebhookUnmatched, core.WebhookRefused, core.WebhookExpired, core.WebhookPending}
	for i, st := range statuses {
		e := event(i + 1)
		e.Status = st
		es = append(es, record(t, s, e))
	}
	must(t, s.FileProgram(ctx, es[4].ID, &core.Program{PatientID: "P-1", Name: es[4].Name, Version: 1, SHA256: "ee", Path: "p.pdf"}, nil))

	ids := func(list []*core.WebhookEvent) string {
		var out []int64
		for _, e := range list {
			out = append(out, e.ID)
		}
		return fmt.Sprint(out)
	}
	tests := []struct {
		name string
		f    core.InboxFilter
		want []int64
	}{
		{"default: all but filed, newest first", core.InboxFilter{}, []int64{es[3].ID, es[2].ID, es[1].ID, es[0].ID}},
		{"filed only", core.InboxFilter{Statuses: []core.WebhookStatus{core.WebhookFiled}}, []int64{es[4].ID}},
		{"failures", core.InboxFilter{Statuses: []core.WebhookStatus{core.WebhookRefused, core.WebhookExpired}}, []int64{es[3].ID, es[2].ID}},
		{"limit", core.InboxFilter{Limit: 2}, []int64{es[3].ID, es[2].ID}},
	}
	for _, tt := range tests {
		got, err := s.Inbox(ctx, tt.f)
		must(t, err)
		if ids(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: inbox = %v, want %v", tt.name, ids(got), tt.want)
		}
	}
}
