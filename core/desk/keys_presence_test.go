package desk_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/desk"
	"ptdesk/core/postgres"
	"ptdesk/core/postgres/pgtest"
	"ptdesk/core/secrets"
)

// presence lists the desks that reported a key of the practitioner, as
// seen from d.
func presence(t *testing.T, d *desk.Desk, practitionerID string) map[string]desk.KeyDesk {
	t.Helper()
	list, err := d.KeyDesks(context.Background(), practitionerID)
	must(t, err)
	out := map[string]desk.KeyDesk{}
	for _, k := range list {
		out[k.Desk] = k
	}
	return out
}

// TestKeyChangesReportPresence checks that every key change at a desk
// reaches the other desks of the clinic database without anyone calling
// ReportKeyPresence: set, paste, rotate and remove.
func TestKeyChangesReportPresence(t *testing.T) {
	ctx := context.Background()
	front, back := sharedDesks(t)
	pr, err := front.AddPractitioner(ctx, core.Practitioner{Name: "Pat Presence", Server: "uk"})
	must(t, err)
	if got := presence(t, back, pr.ID); len(got) != 0 {
		t.Fatalf("before any key: %+v", got)
	}

	key, _, err := front.SetNewKey(ctx, pr.ID)
	must(t, err)
	got := presence(t, back, pr.ID)
	if len(got) != 1 || !got[front.DeskName()].Current || got[front.DeskName()].ThisDesk {
		t.Fatalf("after the front desk set a key, the back desk sees %+v; want the front desk, current", got)
	}

	// The back desk pastes the same key.
	_, err = back.SetKey(ctx, pr.ID, key)
	must(t, err)
	if got := presence(t, front, pr.ID); len(got) != 2 || !got[back.DeskName()].Current {
		t.Fatalf("after the back desk pasted the key: %+v", got)
	}

	// The front desk rotates: the back desk's key is now an old one.
	_, _, err = front.SetNewKey(ctx, pr.ID)
	must(t, err)
	got = presence(t, back, pr.ID)
	if !got[front.DeskName()].Current || got[back.DeskName()].Current {
		t.Fatalf("after rotating: %+v; want the front desk current, the back desk not", got)
	}

	_, err = front.RemoveKey(ctx, pr.ID)
	must(t, err)
	got = presence(t, back, pr.ID)
	if _, ok := got[front.DeskName()]; ok || len(got) != 1 {
		t.Fatalf("after the front desk removed its key: %+v; want the back desk only", got)
	}
	_, err = back.RemoveKey(ctx, pr.ID)
	must(t, err)
	if got := presence(t, front, pr.ID); len(got) != 0 {
		t.Fatalf("after both desks removed the key: %+v", got)
	}
}

// TestOpenHomeReportsKeys checks the report a desk makes when it opens:
// a key set up in its keyring while it was closed (or before this
// version) shows at the other desks.
func TestOpenHomeReportsKeys(t *testing.T) {
	t.Setenv(desk.DatabaseEnv, "")
	ctx := context.Background()
	schema := pgtest.NewSchema(t)
	store, err := postgres.Open(ctx, schema.URL)
	must(t, err)
	admin := desk.New(desk.Options{Store: store, Secrets: secrets.NewMemory(), DeskUser: "admin"})
	defer admin.Close()
	pr, err := admin.AddPractitioner(ctx, core.Practitioner{Name: "Oli Open", Server: "uk"})
	must(t, err)
	key, _, err := admin.SetNewKey(ctx, pr.ID)
	must(t, err)
	s, err := admin.Settings(ctx)
	must(t, err)

	// Another keyring that holds the key, as a keyring copied over would.
	kr := secrets.NewMemory()
	must(t, kr.SetSecret(core.PractitionerKeyName(s.StoreID, pr.ID), key))
	for _, report := range []bool{false, true} {
		d, err := desk.OpenHome(ctx, desk.HomeOptions{Home: t.TempDir(), DB: schema.URL, Secrets: kr, ReportKeys: report})
		must(t, err)
		_, seen := presence(t, admin, pr.ID)[d.DeskName()]
		must(t, d.Close())
		if seen != report {
			t.Errorf("opened with ReportKeys %v: the desk was seen holding the key: %v", report, seen)
		}
	}
}

// failingReports is a desk's store whose presence reports fail, as they
// do when the clinic database goes away between two statements.
type failingReports struct {
	core.Store
}

func (failingReports) ReportKeyPresence(context.Context, string, []core.KeyPresence) error {
	return core.Errorf(core.EINTERNAL, "db", "Could not reach the clinic database.")
}

func (failingReports) KeyPresence(context.Context, string) ([]core.KeyPresence, error) {
	return nil, nil
}

func TestAFailedReportDoesNotFailTheKeyChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var log bytes.Buffer
	sec := secrets.NewMemory()
	d := desk.New(desk.Options{Store: failingReports{f.desk.Store()}, Secrets: sec,
		Logger: slog.New(slog.NewTextHandler(&log, nil))})
	pr, err := d.AddPractitioner(ctx, core.Practitioner{Name: "Fay Fail", Server: "uk"})
	must(t, err)
	key, p, err := d.SetNewKey(ctx, pr.ID)
	if err != nil || p.Key == nil {
		t.Fatalf("setting a key failed with its report: %v", err)
	}
	if d.KeyStatus(ctx, p) != desk.KeyPresent {
		t.Fatal("the key is not in the keyring")
	}
	if _, err := d.RemoveKey(ctx, pr.ID); err != nil {
		t.Fatalf("removing a key failed with its report: %v", err)
	}
	if !strings.Contains(log.String(), "Could not reach the clinic database") {
		t.Errorf("the failed report was not logged:\n%s", log.String())
	}
	if strings.Contains(log.String(), key) {
		t.Error("the log holds the key")
	}
}

// brokenKeyring fails every read, as a locked or stopped keyring does.
type brokenKeyring struct{ core.SecretStore }

func (brokenKeyring) Secret(string) (string, error) {
	return "", core.Errorf(core.EINTERNAL, "keyring", "The keyring is locked.")
}

func TestAnUnreadableKeyringKeepsTheLastReport(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	open := func(user string, sec core.SecretStore) *desk.Desk {
		store, err := postgres.Open(ctx, url)
		must(t, err)
		d := desk.New(desk.Options{Store: store, Secrets: sec, DeskUser: user})
		t.Cleanup(func() { _ = d.Close() })
		return d
	}
	sec := secrets.NewMemory()
	front, back := open("front", sec), open("back", secrets.NewMemory())
	pr, err := front.AddPractitioner(ctx, core.Practitioner{Name: "Lou Locked", Server: "uk"})
	must(t, err)
	_, _, err = front.SetNewKey(ctx, pr.ID)
	must(t, err)

	locked := open("front", brokenKeyring{sec})
	if err := locked.ReportKeyPresence(ctx); core.ErrorField(err) != "keyring" {
		t.Fatalf("report with a locked keyring: %v; want the keyring's error", err)
	}
	if _, ok := presence(t, back, pr.ID)[front.DeskName()]; !ok {
		t.Fatal("a locked keyring erased the desk's last report")
	}
}
