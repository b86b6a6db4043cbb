package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"ptdesk/core"
)

// menuItem finds an item by label prefix in m.
func menuItem(t *testing.T, m *fyne.Menu, prefix string) *fyne.MenuItem {
	t.Helper()
	var labels []string
	for _, it := range m.Items {
		if strings.HasPrefix(it.Label, prefix) {
			return it
		}
		labels = append(labels, it.Label)
	}
	t.Fatalf("menu %q has no item %q; it has %q", m.Label, prefix, labels)
	return nil
}

func labels(items []*fyne.MenuItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Label)
	}
	return out
}

func TestTrayListsRecentsAndSwitchingChangesWhoOpens(t *testing.T) {
	var lee, sam *core.Practitioner
	var pats []*core.Patient
	h := newHarness(t, harnessOptions{tray: true}, func(h *harness) {
		lee = h.practitioner("Dr Lee", true)
		sam = h.practitioner("Sam Rivera", true)
		for _, n := range []string{"Ava", "Ben", "Cleo", "Dan", "Eve", "Finn"} {
			pats = append(pats, h.patient(n, "Walker", 1980))
		}
	})
	tray := h.fyne.(*trayApp)
	if tray.menu == nil || tray.icon == nil || tray.window != h.app.win {
		t.Fatal("the tray menu, icon and window were not installed")
	}
	// Two practitioners and no stored choice: nobody is current yet.
	if h.app.Current() != nil {
		t.Fatalf("current %v before anyone was chosen", h.app.Current())
	}
	who := menuItem(t, tray.menu, "Practitioner")
	menuItem(t, who.ChildMenu, "Dr Lee").Action()
	if h.app.Current() == nil || h.app.Current().ID != lee.ID {
		t.Fatal("switching from the tray did not make Dr Lee current")
	}
	if !strings.Contains(h.app.status.Text, "Physitrack signs out whoever was signed in") {
		t.Errorf("switching must say what happens in Physitrack: %q", h.app.status.Text)
	}
	if got := h.app.win.Title(); !strings.Contains(got, "Dr Lee") {
		t.Errorf("window title %q does not show who is at the desk", got)
	}

	// Open six patients for Dr Lee; the tray lists the last five, newest first.
	for _, p := range pats {
		h.app.openPatient(p, false)
	}
	recent := menuItem(t, tray.menu, "Recent patients").ChildMenu.Items
	want := []string{"Finn Walker (1980)", "Eve Walker (1980)", "Dan Walker (1980)", "Cleo Walker (1980)", "Ben Walker (1980)"}
	if strings.Join(labels(recent), "|") != strings.Join(want, "|") {
		t.Fatalf("tray recents %q, want %q", labels(recent), want)
	}

	// Choosing a recent patient opens it right away, for the current one.
	before := h.browser.opened()
	recent[3].Action() // Cleo
	if h.browser.opened() != before+1 {
		t.Fatal("choosing a recent patient did not open it")
	}
	if e := h.lastOpen(); e.PatientID != pats[2].ID || e.PractitionerID != lee.ID {
		t.Fatalf("opened %+v, want Cleo for Dr Lee", e)
	}
	if recent := menuItem(t, tray.menu, "Recent patients").ChildMenu.Items; recent[0].Label != "Cleo Walker (1980)" {
		t.Fatalf("the tray was not rebuilt after opening: %q", labels(recent))
	}

	// Switch to Sam: the tray shows Sam's (empty) recents and opens go out
	// for Sam.
	who = menuItem(t, tray.menu, "Practitioner: Dr Lee")
	if !menuItem(t, who.ChildMenu, "Dr Lee").Checked {
		t.Error("the current practitioner is not ticked")
	}
	menuItem(t, who.ChildMenu, "Sam Rivera").Action()
	if h.app.Current().ID != sam.ID {
		t.Fatal("switch to Sam failed")
	}
	recent = menuItem(t, tray.menu, "Recent patients").ChildMenu.Items
	if len(recent) != 1 || recent[0].Label != "No recent patients" || !recent[0].Disabled {
		t.Fatalf("Sam's recents: %q", labels(recent))
	}
	test.Type(h.app.search.entry, "ava")
	h.key(fyne.KeyReturn)
	if e := h.lastOpen(); e.PatientID != pats[0].ID || e.PractitionerID != sam.ID {
		t.Fatalf("after switching, opened %+v; want Ava for Sam", e)
	}
	if !strings.HasPrefix(h.app.status.Text, "Opened Ava Walker for Sam Rivera") {
		t.Errorf("status %q", h.app.status.Text)
	}
}

func TestPractitionerChoicePersists(t *testing.T) {
	var sam *core.Practitioner
	h := newHarness(t, harnessOptions{}, func(h *harness) {
		h.practitioner("Dr Lee", true)
		sam = h.practitioner("Sam Rivera", true)
	})
	h.app.picker.SetSelected("Sam Rivera")
	if h.app.Current() == nil || h.app.Current().ID != sam.ID {
		t.Fatal("choosing in the window's picker did not switch")
	}
	// A new app on the same directory and Preferences starts with Sam.
	again, err := New(h.ctx, h.fyne, h.desk, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Current() == nil || again.Current().ID != sam.ID {
		t.Fatalf("after a restart, current is %v; want Sam", again.Current())
	}
}

func TestTrayWithoutPractitionersOffersSetup(t *testing.T) {
	h := newHarness(t, harnessOptions{tray: true}, nil)
	tray := h.fyne.(*trayApp)
	who := menuItem(t, tray.menu, "Practitioner")
	menuItem(t, who.ChildMenu, "Add practitioners").Action()
	if h.app.admin == nil {
		t.Fatal("the tray's setup item did not open the practitioners screen")
	}
	quit := tray.menu.Items[len(tray.menu.Items)-1]
	if quit.Label != "Quit" || !quit.IsQuit {
		t.Fatalf("last tray item %q is not Quit", quit.Label)
	}
	if menuItem(t, tray.menu, "Search patients").Action == nil || menuItem(t, tray.menu, "Settings").Action == nil {
		t.Fatal("tray items without actions")
	}
}
