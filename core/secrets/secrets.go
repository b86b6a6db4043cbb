// Package secrets keeps PT Desk's secrets: in the operating system's keyring
// (Secret Service on Linux, Keychain on macOS, Credential Manager on
// Windows) for real use, or in memory for unit tests.
package secrets

import (
	"errors"
	"fmt"
	"sync"

	"github.com/zalando/go-keyring"

	"ptdesk/core"
)

// Service is the keyring service name every PT Desk entry is stored under.
const Service = "ptdesk"

// Keyring is the OS keyring.
type Keyring struct{ service string }

// NewKeyring returns the OS keyring under the given service name ("" means
// Service). Tests use their own service name so they never touch real keys.
func NewKeyring(service string) *Keyring {
	if service == "" {
		service = Service
	}
	return &Keyring{service: service}
}

// Secret implements core.SecretStore.
func (k *Keyring) Secret(name string) (string, error) {
	s, err := keyring.Get(k.service, name)
	if errors.Is(err, keyring.ErrNotFound) {
		return "", core.Errorf(core.ENOTFOUND, "key", "No secret %q in the system keyring.", name)
	}
	if err != nil {
		return "", keyringError("read", err)
	}
	return s, nil
}

// SetSecret implements core.SecretStore.
func (k *Keyring) SetSecret(name, secret string) error {
	if err := keyring.Set(k.service, name, secret); err != nil {
		return keyringError("store", err)
	}
	return nil
}

// DeleteSecret implements core.SecretStore.
func (k *Keyring) DeleteSecret(name string) error {
	err := keyring.Delete(k.service, name)
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return keyringError("remove", err)
	}
	return nil
}

// keyringError wraps a keyring failure without the secret (the library's
// errors never carry it) and says what to check.
func keyringError(verb string, err error) error {
	return &core.Error{Code: core.EINTERNAL, Field: "keyring",
		Message: fmt.Sprintf("Could not %s the key in the system keyring (%v). Check that a keyring (Secret Service, Keychain or Credential Manager) is running and unlocked.", verb, err)}
}

// Memory is an in-memory core.SecretStore for unit tests.
type Memory struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{m: map[string]string{}} }

// Secret implements core.SecretStore.
func (m *Memory) Secret(name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[name]
	if !ok {
		return "", core.Errorf(core.ENOTFOUND, "key", "No secret %q.", name)
	}
	return s, nil
}

// SetSecret implements core.SecretStore.
func (m *Memory) SetSecret(name, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[name] = secret
	return nil
}

// DeleteSecret implements core.SecretStore.
func (m *Memory) DeleteSecret(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, name)
	return nil
}
