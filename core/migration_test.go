package core

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrationsOrdersByNumber(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0010_later.sql": {Data: []byte("B")},
		"m/0002_first.sql": {Data: []byte("A")},
		"m/README":         {Data: []byte("not a migration")},
	}
	ms, err := LoadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 2 || ms[0].Name != "0002_first.sql" || ms[0].SQL != "A" || ms[1].Version != 10 {
		t.Fatalf("got %+v", ms)
	}
}

func TestLoadMigrationsRefusesBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"positive number": {"m/first.sql": {}},
		"same number":     {"m/0001_a.sql": {}, "m/1_b.sql": {}},
	} {
		if _, err := LoadMigrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
