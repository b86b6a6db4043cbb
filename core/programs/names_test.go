package programs_test

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"ptdesk/core/programs"
)

func TestSafeName(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Knee rehab", "Knee rehab"},
		{"../../etc/passwd", "_.._etc_passwd"},
		{"..", "x"},
		{".", "x"},
		{" . ", "x"},
		{"", "x"},
		{".hidden", "hidden"},
		{"trailing dots...", "trailing dots"},
		{"trailing space ", "trailing space"},
		{`a<b>c:d"e/f\g|h?i*j`, "a_b_c_d_e_f_g_h_i_j"},
		{"line\nbreak\tand\x00nul\x7fdel", "line_break_and_nul_del"},
		{"many    spaces\u00a0here", "many spaces here"},
		{"zero\u200bwidth", "zero width"},
		{"CON", "_CON"},
		{"con.pdf", "_con.pdf"},
		{"Nul", "_Nul"},
		{"COM1", "_COM1"},
		{"lpt9.txt", "_lpt9.txt"},
		{"COM10", "COM10"},
		{"CONSOLE", "CONSOLE"},
		{"Ünïcödé 李 😀", "Ünïcödé 李 😀"},
		{"bad\xffutf8", "bad_utf8"},
	}
	for _, tt := range tests {
		if got := programs.SafeName(tt.in, 80, "x"); got != tt.want {
			t.Errorf("SafeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSafeNameCutsOnACharacterBoundary(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	got := programs.SafeName(long, 81, "x")
	if len(got) > 81 || !utf8.ValidString(got) || got != strings.Repeat("é", 40) {
		t.Fatalf("cut to %d bytes: %q", len(got), got)
	}
	if got := programs.SafeName("abc"+strings.Repeat(" ", 100)+"d", 10, "x"); got != "abc d" {
		t.Fatalf("spaces collapsed and trimmed after the cut: %q", got)
	}
	if got := programs.SafeName(strings.Repeat("a", 9)+". b", 10, "x"); got != strings.Repeat("a", 9) {
		t.Fatalf("a cut ending in a dot: %q", got)
	}
}

func TestFileNameAndPatientDirStayInside(t *testing.T) {
	if got := programs.FileName("2026-03-14", "Knee rehab", 1); got != "2026-03-14_Knee rehab.pdf" {
		t.Errorf("first version: %q", got)
	}
	if got := programs.FileName("2026-03-14", "Knee rehab", 3); got != "2026-03-14_Knee rehab (v3).pdf" {
		t.Errorf("third version: %q", got)
	}
	if got := programs.FileName("../..", "../../x", 1); strings.ContainsAny(got, `/\`) {
		t.Errorf("file name with a separator: %q", got)
	}
	for _, id := range []string{"..", ".", "../1", "CON", "a/b", ""} {
		dir := programs.PatientDir(id)
		if filepath.Dir(dir) != programs.ProgramsDir || strings.HasPrefix(filepath.Base(dir), ".") {
			t.Errorf("PatientDir(%q) = %q, not a plain directory inside %s", id, dir, programs.ProgramsDir)
		}
	}
	if got := programs.PatientDir("P-17"); got != filepath.Join("programs", "P-17") {
		t.Errorf("an ordinary id is kept: %q", got)
	}
}
