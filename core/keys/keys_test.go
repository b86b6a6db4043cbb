package keys_test

import (
	"bytes"
	"strings"
	"testing"

	"ptdesk/core"
	"ptdesk/core/keys"
)

func TestGenerate(t *testing.T) {
	const n = 10000
	seen := make(map[string]bool, n)
	counts := map[byte]int{}
	for range n {
		k, err := keys.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if len(k) != keys.Length {
			t.Fatalf("key length %d, want %d", len(k), keys.Length)
		}
		if strings.IndexFunc(k, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		}) >= 0 {
			t.Fatalf("key has a character outside A-Z a-z 0-9")
		}
		if err := keys.Check(k); err != nil {
			t.Fatalf("generated key refused by Physitrack's rule: %v", err)
		}
		if seen[k] {
			t.Fatal("duplicate key generated")
		}
		seen[k] = true
		for i := range len(k) {
			counts[k[i]]++
		}
	}
	// Uniformity: each of the 62 symbols should appear about n*40/62 ≈ 6452
	// times; with this many draws a biased generator is far outside ±10%.
	want := float64(n*keys.Length) / 62
	if len(counts) != 62 {
		t.Fatalf("%d distinct symbols used, want 62", len(counts))
	}
	for c, got := range counts {
		if d := (float64(got) - want) / want; d > 0.1 || d < -0.1 {
			t.Errorf("symbol %q drawn %d times, expected about %.0f", c, got, want)
		}
	}
}

func TestGenerateFromFailingReader(t *testing.T) {
	if _, err := keys.GenerateFrom(bytes.NewReader(nil)); err == nil {
		t.Fatal("GenerateFrom an empty reader must fail, not return a weak key")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, key string
		ok        bool
		mention   string
	}{
		{"30 mixed", "Abcdefghij0123456789ABCDEFGHIJ", true, ""},
		{"with symbols", "Abcdefghij0123456789ABCDEFGHI!-_", true, ""},
		{"29 chars", "Abcdefghij0123456789ABCDEFGHI", false, "at least 30"},
		{"no upper", strings.Repeat("abc123", 6), false, "upper-case"},
		{"no lower", strings.Repeat("ABC123", 6), false, "lower-case"},
		{"no digit", strings.Repeat("AbcDef", 6), false, "digit"},
		{"space", "Abcdefghij0123456789 ABCDEFGHIJK", false, "space"},
		{"newline", "Abcdefghij0123456789ABCDEFGHIJK\n", false, "line break"},
		{"empty", "", false, "at least 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := keys.Check(tt.key)
			if (err == nil) != tt.ok {
				t.Fatalf("Check = %v, want ok=%v", err, tt.ok)
			}
			if err == nil {
				return
			}
			if core.ErrorField(err) != "key" || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("error %q should name the key and mention %q", err, tt.mention)
			}
			if tt.key != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.key)) {
				t.Fatal("the error message contains the key")
			}
		})
	}
}

func TestHashAndFingerprint(t *testing.T) {
	a, b := "Abcdefghij0123456789ABCDEFGHIJ", "Abcdefghij0123456789ABCDEFGHIK"
	if keys.LookupHash(a) == keys.LookupHash(b) || keys.Fingerprint(a) == keys.Fingerprint(b) {
		t.Fatal("different keys must have different hashes and fingerprints")
	}
	if keys.LookupHash(a) != keys.LookupHash(a) {
		t.Fatal("the lookup hash must be stable")
	}
	if len(keys.LookupHash(a)) != 64 {
		t.Fatalf("lookup hash %q is not hex SHA-256", keys.LookupHash(a))
	}
	fp := keys.Fingerprint(a)
	if len(fp) != 9 || fp[4] != '-' || strings.Contains(a, fp[:4]) {
		t.Fatalf("fingerprint %q is not XXXX-XXXX", fp)
	}
	if strings.Contains(keys.LookupHash(a), fp[:4]+fp[5:]) {
		t.Fatal("the fingerprint must not be a piece of the lookup hash")
	}
}
