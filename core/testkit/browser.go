package testkit

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium finds the browser end-to-end tests drive: $PTDESK_CHROMIUM, else
// chromium on the PATH.
func Chromium(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{os.Getenv("PTDESK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(tb, "Chromium", "install the Debian package chromium or set PTDESK_CHROMIUM")
	return ""
}

// Browser is a headless Chromium that records every JavaScript dialog and
// console message, so a test can prove that no injected script ran.
type Browser struct {
	ctx     context.Context
	mu      sync.Mutex
	dialogs []string
	console []string
}

// NewBrowser starts Chromium with a fresh profile and the flags that keep it
// off the network; it is stopped when the test ends.
func NewBrowser(tb testing.TB) *Browser {
	tb.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(tb)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	b := &Browser{ctx: ctx}
	err := chromedp.Listen(ctx, b.record)
	if err == nil {
		err = chromedp.Do(ctx)
	}
	if err != nil {
		Missing(tb, "a Chromium that starts", err.Error())
	}
	return b
}

// record runs in chromedp's event loop: it must be quick and must not call
// back into chromedp directly.
func (b *Browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, e.Message)
		go func() {
			_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}()
	case *runtime.EventConsoleAPICalled:
		b.console = append(b.console, string(e.Type))
	}
}

// Visit loads url and waits (30 s at most) until the location satisfies
// done; it returns the location.
func (b *Browser) Visit(tb testing.TB, url string, done func(loc string) bool) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		tb.Fatalf("visit: %v", err)
	}
	var last string
	var lastErr error
	for {
		// While the page navigates (the form posts itself), the location
		// can briefly not be read: keep polling until the deadline.
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil {
			last = loc
			if done(loc) {
				return loc
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("visit: %v (last location %q, last error %v)", ctx.Err(), last, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Text is the visible text of the current page.
func (b *Browser) Text(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	for {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		if err == nil {
			return s
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("read page text: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ScriptsRan lists the dialogs and console messages seen so far: a page
// PT Desk serves makes none, so anything here is injected script.
func (b *Browser) ScriptsRan() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append(append([]string(nil), b.dialogs...), b.console...)
}
