package secrets_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"ptdesk/core"
	"ptdesk/core/keys"
	"ptdesk/core/secrets"
	"ptdesk/core/testkit"
)

// contract is what every core.SecretStore must do.
func contract(t *testing.T, s core.SecretStore) {
	t.Helper()
	key, err := keys.Generate()
	if err != nil {
		t.Fatal(err)
	}
	name := core.PractitionerKeyName("test-store", "1")
	if _, err := s.Secret(name); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("Secret of a missing entry: %v, want not found", err)
	}
	if err := s.SetSecret(name, key); err != nil {
		t.Fatalf("SetSecret: %v", err)
	}
	got, err := s.Secret(name)
	if err != nil || got != key {
		t.Fatalf("Secret after SetSecret: got a different key or %v", err)
	}
	other := core.PractitionerKeyName("other-store", "1")
	if _, err := s.Secret(other); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("another directory's entry must not see this key: %v", err)
	}
	next, _ := keys.Generate()
	if err := s.SetSecret(name, next); err != nil {
		t.Fatalf("replace: %v", err)
	}
	if got, _ := s.Secret(name); got != next {
		t.Fatal("SetSecret did not replace the key")
	}
	if err := s.DeleteSecret(name); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if _, err := s.Secret(name); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("Secret after delete: %v, want not found", err)
	}
	if err := s.DeleteSecret(name); err != nil {
		t.Fatalf("deleting a missing entry must not fail: %v", err)
	}
}

func TestMemory(t *testing.T) { contract(t, secrets.NewMemory()) }

// TestRealKeyring runs the same contract against the operating system's
// keyring: gnome-keyring over D-Bus under 'make test'.
func TestRealKeyring(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		testkit.Missing(t, "a D-Bus session with a Secret Service keyring", "run inside dbus-run-session with gnome-keyring-daemon unlocked")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	kr := secrets.NewKeyring("ptdesk-test-" + hex.EncodeToString(b))
	probe := "probe"
	if err := kr.SetSecret(probe, "x"); err != nil {
		testkit.Missing(t, "a working Secret Service keyring", err.Error())
	}
	_ = kr.DeleteSecret(probe)
	contract(t, kr)
}
