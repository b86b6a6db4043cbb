// Package instance keeps PT Desk to one running copy per user and data
// folder. A second copy would fight the first over the tray, the launch
// server and the webhook listener; instead, starting PT Desk again brings
// the running window forward and exits.
//
// The running copy listens on a Unix domain socket in the data folder
// (Windows 10 and later support them too). A new copy that finds the socket
// answering asks it to show its window; a socket nobody answers on is left
// over from a crash and is replaced.
package instance

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// SocketName is the socket's file name in the data folder.
const SocketName = "ptdesk.sock"

// ErrRunning means another copy is running for the same data folder and
// has been asked to show its window; the caller should exit quietly.
var ErrRunning = errors.New("PT Desk is already running; its window was brought forward")

// maxSocketPath keeps the socket path within every platform's limit
// (sun_path is 104 bytes on macOS, 108 on Linux and Windows).
const maxSocketPath = 100

// answerTimeout bounds how long a new copy waits for the running one.
const answerTimeout = 3 * time.Second

// Instance is the running copy's listener.
type Instance struct {
	ln   net.Listener
	show func()
	wg   sync.WaitGroup
}

// SocketPath is where the copy for the data folder dir listens: in dir,
// or, when that path is too long for a socket, in the user's runtime (or
// temporary) directory under a name derived from dir.
func SocketPath(dir string) string {
	p := filepath.Join(dir, SocketName)
	if len(p) <= maxSocketPath {
		return p
	}
	sum := sha256.Sum256([]byte(dir))
	base := os.Getenv("XDG_RUNTIME_DIR")
	if base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, "ptdesk-"+hex.EncodeToString(sum[:8])+".sock")
}

// Claim makes this process the running copy for the data folder dir; show
// is called (on the listener's goroutine) whenever a later copy starts. If
// another copy already runs, Claim asks it to show its window and returns
// ErrRunning.
func Claim(dir string, show func()) (*Instance, error) {
	path := SocketPath(dir)
	ln, err := net.Listen("unix", path)
	if err != nil {
		if askToShow(path) == nil {
			return nil, ErrRunning
		}
		// Nobody answers: a socket left by a copy that crashed.
		if rerr := os.Remove(path); rerr != nil && !os.IsNotExist(rerr) {
			return nil, fmt.Errorf("replace the stale instance socket %s: %w", path, rerr)
		}
		ln, err = net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("listen for other starts of PT Desk on %s: %w", path, err)
		}
	}
	in := &Instance{ln: ln, show: show}
	in.wg.Add(1)
	go in.serve()
	return in, nil
}

// Close stops listening and removes the socket.
func (in *Instance) Close() error {
	err := in.ln.Close()
	in.wg.Wait()
	return err
}

func (in *Instance) serve() {
	defer in.wg.Done()
	for {
		c, err := in.ln.Accept()
		if err != nil {
			return
		}
		in.answer(c)
	}
}

// answer handles one request: "show" brings the window forward.
func (in *Instance) answer(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(answerTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "show" {
		return
	}
	in.show()
	_, _ = c.Write([]byte("ok\n"))
}

// askToShow asks the copy listening on path to show its window.
func askToShow(path string) error {
	c, err := net.DialTimeout("unix", path, answerTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(answerTimeout))
	if _, err := c.Write([]byte("show\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "ok" {
		return fmt.Errorf("unexpected answer %q", line)
	}
	return nil
}
