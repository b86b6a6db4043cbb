package ptsso

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"

	"github.com/skratchdot/open-golang/open"
)

// Opener shows a URL to the practitioner, normally in the default browser.
// It is an interface so that tests and benchmarks need no browser.
type Opener interface {
	Open(url string) error
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(url string) error

// Open calls f(url).
func (f OpenerFunc) Open(url string) error { return f(url) }

// SystemOpener opens URLs in the desktop's default browser (xdg-open, open,
// or start) and waits for that command to finish, so that a missing browser
// is reported. On a desktop whose xdg-open runs the browser in the
// foreground the wait lasts as long as the browser: call it off the UI
// thread.
type SystemOpener struct{}

// Open runs the system's opener command on url.
func (SystemOpener) Open(url string) error {
	if err := open.Run(url); err != nil {
		return fmt.Errorf("open the default browser: %w", err)
	}
	return nil
}

// FetchOpener "opens" a URL by fetching it with an HTTP client and
// discarding the body: a browser stand-in for benchmarks and checks that
// need the launch page served but not posted.
type FetchOpener struct {
	// Client fetches the page; nil means http.DefaultClient.
	Client *http.Client
	// Context bounds each fetch; nil means context.Background().
	Context context.Context
}

// Open fetches url and fails unless the answer is 200 OK.
func (o FetchOpener) Open(url string) error {
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	client := o.Client
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("fetch launch page: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		// url.Error quotes the URL, whose path is the launch capability.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("fetch launch page: %w", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("fetch launch page: read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch launch page: status %s", resp.Status)
	}
	return nil
}
