package programs

import (
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Directory names under the data directory.
const (
	// ProgramsDir holds one directory per patient with their PDFs.
	ProgramsDir = "programs"
	// heldDir (inside ProgramsDir) keeps the PDFs of unmatched events
	// until an admin assigns them, so that an assignment made after the
	// download link expired still files the program. Its leading dot keeps
	// it apart from patient directories, whose names never start with one.
	heldDir = ".unmatched"
	// incomingDir (inside ProgramsDir) is where downloads land when the
	// PDFs are kept in the store rather than as files.
	incomingDir = ".incoming"
)

// Limits on the parts of a file name, in bytes: far below the 255 bytes
// file systems allow per name, so that the whole path stays short enough
// for Windows too.
const (
	maxNameBytes    = 80
	maxPatientBytes = 64
)

// SafeName turns s into a file or directory name that every common file
// system accepts and that cannot leave its directory: control characters
// and < > : " / \ | ? * become "_", runs of spaces become one, leading and
// trailing dots and spaces go (no "..", no hidden files, nothing Windows
// trims), Windows' reserved device names (CON, NUL, COM1, ...) get a "_"
// in front, invalid UTF-8 is replaced, and the result is cut to max bytes
// on a character boundary. An empty result is fallback.
func SafeName(s string, max int, fallback string) string {
	s = strings.ToValidUTF8(s, "_")
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || strings.ContainsRune(`<>:"/\|?*`, r):
			r = '_'
		case unicode.IsSpace(r) || r == 0xfeff || unicode.Is(unicode.Cf, r):
			// Line and paragraph separators, zero-width and direction
			// marks would make names that look alike but differ.
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	out := trimName(b.String())
	if len(out) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = trimName(out[:cut])
	}
	if out == "" {
		return fallback
	}
	if reservedName(out) {
		out = "_" + out
	}
	return out
}

func trimName(s string) string { return strings.Trim(s, ". ") }

// reservedName reports Windows device names, which stay reserved with any
// extension and in any case ("con.pdf", "Lpt1").
func reservedName(s string) bool {
	stem, _, _ := strings.Cut(s, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) >= 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		switch stem[3:] {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// PatientDir is the patient's directory relative to the data directory.
func PatientDir(patientID string) string {
	return filepath.Join(ProgramsDir, SafeName(patientID, maxPatientBytes, "patient"))
}

// FileName is the name of a program's PDF: <date>_<program name>.pdf for
// the first version, with " (vN)" before the extension for later ones.
// date is YYYY-MM-DD (checked when the webhook was received), made safe
// all the same.
func FileName(date, name string, version int) string {
	n := SafeName(date, 10, "undated") + "_" + SafeName(name, maxNameBytes, "program")
	if version > 1 {
		n += " (v" + strconv.Itoa(version) + ")"
	}
	return n + ".pdf"
}
