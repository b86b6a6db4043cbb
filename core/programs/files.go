package programs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// A file being written is named .ptdesk-*.part in its final directory, so
// that the rename that publishes it never crosses file systems, and so
// that a start after a crash can find and remove what was left half
// written.
const (
	tempPrefix = ".ptdesk-"
	tempSuffix = ".part"
)

// ensureDir creates dir (private to the user) and syncs the parent of
// every directory it created, so that a file renamed into it survives a
// power cut along with its directory entry.
func ensureDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := ensureDir(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return syncDir(parent)
}

// syncDir makes the directory's entries durable. Windows cannot open a
// directory for syncing, and its file system journals renames; there it
// does nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// createTemp opens a new temporary file in dir (created if needed).
func createTemp(dir string) (*os.File, error) {
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*"+tempSuffix)
	if err != nil {
		return nil, fmt.Errorf("create a temporary file in %s: %w", dir, err)
	}
	return f, nil
}

// publish makes the finished temporary file tmp (synced and closed) the
// file final, in the same directory, and syncs the directory: after a
// crash the final name holds either nothing or the whole file. It never
// replaces a file: an existing final is left alone and fs.ErrExist
// returned, so the caller can choose another name.
func publish(tmp, final string) error {
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		// Some file systems (FAT, some network shares) have no hard
		// links: check and rename instead. Only the worker holding the
		// lease writes these directories, so nothing slips in between.
		if _, serr := os.Lstat(final); serr == nil {
			return fs.ErrExist
		}
		if rerr := os.Rename(tmp, final); rerr != nil {
			return fmt.Errorf("publish %s: %w", filepath.Base(final), rerr)
		}
		return syncDir(filepath.Dir(final))
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("publish %s: remove the temporary name: %w", filepath.Base(final), err)
	}
	return syncDir(filepath.Dir(final))
}

// writeFileAtomic writes data to path through a synced temporary file and
// a rename, replacing any file there (for files PT Desk alone names, such
// as held PDFs and the lock's notes).
func writeFileAtomic(path string, data []byte) error {
	f, err := createTemp(filepath.Dir(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	ok = true
	return syncDir(filepath.Dir(path))
}

// isTemp reports a name createTemp makes.
func isTemp(name string) bool {
	return strings.HasPrefix(name, tempPrefix) && strings.HasSuffix(name, tempSuffix)
}

// RemoveTempFiles deletes the temporary files left under the programs
// directory of the data directory home by a worker that stopped in the
// middle of a write, and returns how many it removed. Only the worker
// holding the lease may call it: another one's files in progress would go
// too.
func RemoveTempFiles(home string) (int, error) {
	root := filepath.Join(home, ProgramsDir)
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() && isTemp(d.Name()) {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("remove temporary files: %w", err)
	}
	return n, nil
}
