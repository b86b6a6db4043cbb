package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestSettingsSaveWithReasons(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	h.app.showSettings()
	s := h.app.settings
	if s.pmsName.Text != "test_clinic" || s.region.Text != "GB" {
		t.Fatalf("settings shown: %q, %q", s.pmsName.Text, s.region.Text)
	}
	s.pmsName.SetText("Bad Name")
	s.onSavePMSName()
	if !strings.Contains(s.pmsNote.Text, "lowercase letters") {
		t.Errorf("bad integration name: %q", s.pmsNote.Text)
	}
	s.pmsName.SetText("umbrella_corporation")
	s.onSavePMSName()
	s.region.SetText("nl")
	s.onSaveRegion()
	st, _ := h.desk.Settings(h.ctx)
	if st.PMSName != "umbrella_corporation" || st.PhoneRegion != "NL" {
		t.Fatalf("saved %q, %q", st.PMSName, st.PhoneRegion)
	}
	if s.region.Text != "NL" {
		t.Errorf("the region is not shown normalized: %q", s.region.Text)
	}
	s.region.SetText("XX")
	s.onSaveRegion()
	if !strings.Contains(s.regionNote.Text, "XX") {
		t.Errorf("unknown region: %q", s.regionNote.Text)
	}
}

func TestSettingsFolderAndAutostart(t *testing.T) {
	h := newHarness(t, harnessOptions{}, nil)
	h.app.showSettings()
	s := h.app.settings
	test.Tap(buttonIn(t, s.win.Content(), "Open folder"))
	if len(h.urls) != 1 || h.urls[0].Scheme != "file" || h.urls[0].Path != h.desk.Home() {
		t.Fatalf("Open folder asked for %v", h.urls)
	}
	if s.autostart.Checked {
		t.Fatal("starting at sign-in must be off by default")
	}
	test.Tap(s.autostart)
	if !h.auto.on {
		t.Fatal("ticking did not turn starting at sign-in on")
	}
	test.Tap(s.autostart)
	if h.auto.on {
		t.Fatal("unticking did not turn it off")
	}
}
