//go:build !windows && !darwin

package autostart_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ptdesk/ui/autostart"
)

func TestXDGEntryOnAndOff(t *testing.T) {
	cases := []struct {
		name, exec string
		args       []string
		wantExec   string
	}{
		{"plain path", "/usr/bin/ptdesk", []string{"--hidden"}, "Exec=/usr/bin/ptdesk --hidden"},
		{"space in path", "/opt/PT Desk/ptdesk", []string{"--hidden"}, `Exec="/opt/PT Desk/ptdesk" --hidden`},
		{"percent and quote", `/home/a"b/100%/ptdesk`, nil, `Exec="/home/a\\"b/100%%/ptdesk"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			config := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", config)
			e := autostart.New("com.ptdesk.app", "PT Desk", c.exec, c.args...)
			if on, err := e.Enabled(); err != nil || on {
				t.Fatalf("before enabling: Enabled() = %v, %v; want off by default", on, err)
			}
			if err := e.SetEnabled(true); err != nil {
				t.Fatalf("enable: %v", err)
			}
			path := filepath.Join(config, "autostart", "com.ptdesk.app.desktop")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("the entry was not written where the XDG spec says: %v", err)
			}
			text := string(b)
			for _, want := range []string{"[Desktop Entry]\n", "Type=Application\n", "Name=PT Desk\n", c.wantExec + "\n"} {
				if !strings.Contains(text, want) {
					t.Errorf("entry lacks %q:\n%s", want, text)
				}
			}
			if on, err := e.Enabled(); err != nil || !on {
				t.Fatalf("after enabling: Enabled() = %v, %v", on, err)
			}
			if err := e.SetEnabled(false); err != nil {
				t.Fatalf("disable: %v", err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("the entry is still there after disabling: %v", err)
			}
			if err := e.SetEnabled(false); err != nil {
				t.Fatalf("disabling twice: %v", err)
			}
			entries, _ := os.ReadDir(filepath.Join(config, "autostart"))
			if len(entries) != 0 {
				t.Fatalf("disabling left files behind: %v", entries)
			}
		})
	}
}
