package ptsso

import (
	"context"
	"errors"
	"fmt"
)

// Launch prepares f on srv and opens its launch page with o: the one call
// behind "Open in Physitrack". If the page cannot be opened the launch is
// withdrawn at once, so the key does not wait in memory for LaunchTTL.
func Launch(ctx context.Context, srv *Server, o Opener, f *Form) error {
	if f == nil {
		return errors.New("open in Physitrack: no form (build it with NewForm)")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("open patient %s in Physitrack: %w", f.PatientID(), err)
	}
	u, _, err := srv.Prepare(f)
	if err != nil {
		return fmt.Errorf("open patient %s in Physitrack: %w", f.PatientID(), err)
	}
	if err := o.Open(u); err != nil {
		srv.withdraw(u)
		// The launch is withdrawn, so an error that quotes the URL gives
		// nothing away.
		return fmt.Errorf("open patient %s in Physitrack: %w", f.PatientID(), err)
	}
	return nil
}
