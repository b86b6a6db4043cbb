package programs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"ptdesk/core"
	"ptdesk/core/keys"
)

// ReadSecretFile reads the webhook secret from a file, for a server with
// no keyring. The file must be readable by its owner only (on systems with
// Unix permissions): a secret others can read is refused, with the fix.
func ReadSecretFile(path string) (string, error) {
	const field = "secret-file"
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", core.Errorf(core.ENOTFOUND, field, "The webhook secret file %s does not exist; create it with ptdeskctl webhook secret --generate --file %s.", path, path)
	}
	if err != nil {
		return "", core.Errorf(core.EINVALID, field, "Could not read the webhook secret file %s (%v).", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", core.Errorf(core.EINVALID, field, "The webhook secret file %s is not a regular file.", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", core.Errorf(core.EINVALID, field, "The webhook secret file %s can be read by other users (mode %04o); make it private with: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", core.Errorf(core.EINVALID, field, "Could not read the webhook secret file %s (%v).", path, err)
	}
	s := strings.TrimSpace(string(b))
	if err := keys.Check(s); err != nil {
		return "", core.Errorf(core.EINVALID, field, "The webhook secret in %s is not usable: %s", path, core.ErrorMessage(err))
	}
	return s, nil
}

// WriteSecretFile stores the secret in a file only its owner can read,
// replacing the file's contents.
func WriteSecretFile(path, secret string) error {
	if err := keys.Check(secret); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write the webhook secret file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return core.Errorf(core.EINVALID, "file", "Could not write the webhook secret file %s (%v).", path, err)
	}
	defer f.Close()
	// An existing file keeps its mode on open: make it private first.
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("write the webhook secret file: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		return fmt.Errorf("write the webhook secret file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write the webhook secret file: %w", err)
	}
	return f.Close()
}
