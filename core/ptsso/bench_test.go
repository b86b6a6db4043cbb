package ptsso_test

import (
	"context"
	"net/http"
	"testing"

	"ptdesk/core/ptsso"
)

// BenchmarkLaunch measures what a practitioner waits for between "open" and
// the launch page in the browser's hands, minus the browser: Prepare plus
// one HTTP GET of the page over loopback (Launch with a FetchOpener). A
// browser opening a new tab usually needs a new connection, so that case is
// measured too.
func BenchmarkLaunch(b *testing.B) {
	for _, bc := range []struct {
		name   string
		client *http.Client
	}{
		{"reused-connection", &http.Client{}},
		{"new-connection", &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := startServer(b, ptsso.Options{})
			f := mustForm(b, fullPatient())
			opener := ptsso.FetchOpener{Client: bc.client}
			ctx := context.Background()
			for b.Loop() {
				if err := ptsso.Launch(ctx, srv, opener, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
