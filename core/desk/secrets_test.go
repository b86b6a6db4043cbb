package desk_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// assertNoSecret fails if any secret appears in any file under the data
// directory (the database, its WAL and journal included) or in the log.
func assertNoSecret(t *testing.T, f *fixture, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(f.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("a key was found in %s", filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(f.log.String(), s) {
			t.Error("a key was found in the log output")
		}
	}
}
