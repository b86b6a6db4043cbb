package instance_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ptdesk/ui/instance"
)

func TestSecondStartShowsTheFirst(t *testing.T) {
	dir := t.TempDir()
	shown := make(chan struct{}, 1)
	first, err := instance.Claim(dir, func() { shown <- struct{}{} })
	if err != nil {
		t.Fatalf("first claim: %v", err)
	}
	second, err := instance.Claim(dir, func() { t.Error("the second copy must not be asked to show") })
	if !errors.Is(err, instance.ErrRunning) {
		t.Fatalf("second claim: got %v, %v; want ErrRunning", second, err)
	}
	select {
	case <-shown:
	case <-time.After(10 * time.Second):
		t.Fatal("the running copy was not asked to show its window")
	}
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	// Once the first copy is gone, a new start runs normally.
	third, err := instance.Claim(dir, func() {})
	if err != nil {
		t.Fatalf("claim after the first copy quit: %v", err)
	}
	third.Close()
}

func TestStaleSocketIsReplaced(t *testing.T) {
	dir := t.TempDir()
	// A file where the socket should be, with nobody listening: what a
	// crash leaves behind.
	if err := os.WriteFile(instance.SocketPath(dir), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := instance.Claim(dir, func() {})
	if err != nil {
		t.Fatalf("claim over a stale socket: %v", err)
	}
	defer in.Close()
	if _, err := instance.Claim(dir, func() {}); !errors.Is(err, instance.ErrRunning) {
		t.Fatalf("second claim after replacing the stale socket: %v, want ErrRunning", err)
	}
}

func TestDataFoldersAreSeparate(t *testing.T) {
	a, err := instance.Claim(t.TempDir(), func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := instance.Claim(t.TempDir(), func() {})
	if err != nil {
		t.Fatalf("a copy on another data folder must start: %v", err)
	}
	b.Close()
}

func TestLongFolderUsesShortSocketPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	p := instance.SocketPath(dir)
	if len(p) > 104 {
		t.Fatalf("socket path %q is %d bytes, longer than a socket address allows", p, len(p))
	}
	if p == instance.SocketPath(dir+"x") {
		t.Fatal("two data folders share a socket path")
	}
}
