package desk

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"ptdesk/core"
	"ptdesk/core/sqlite"
)

// ChangePoll is how often a desk on its own SQLite file looks for writes
// (see Changes).
const ChangePoll = 400 * time.Millisecond

// Changes tells the desk what to refresh because the directory changed,
// until ctx ends; then the channel is closed. The first change is
// core.ChangeAll, once the desk is listening.
//
// On a clinic's shared database every write of every desk (this one's
// too) and of the webhook server arrives within moments, with its kind and
// id: core.ChangePatient refreshes search results, core.ChangeRecent the
// tray's recents of that practitioner, core.ChangeProgram a patient's
// programs, core.ChangeInbox the inbox, core.ChangePractitioner the
// practitioners. core.ChangeAll means refresh everything: it comes after
// the connection to the database was lost and is back.
//
// On a desk's own SQLite file in the data directory, a write committed by
// anyone (this desk, the command line, the webhook listener) arrives as
// core.ChangeAll within ChangePoll.
func (d *Desk) Changes(ctx context.Context) <-chan core.Change {
	if f, ok := d.store.(core.ChangeFeed); ok {
		return f.Changes(ctx)
	}
	out := make(chan core.Change, 1)
	if _, ok := d.store.(*sqlite.DB); ok && d.home != "" {
		path := filepath.Join(d.home, DatabaseFile)
		if _, err := os.Stat(path); err == nil {
			go d.watchFile(ctx, path, out)
			return out
		}
	}
	// A store that tells of no changes: only the first ChangeAll.
	out <- core.Change{Kind: core.ChangeAll}
	go func() {
		<-ctx.Done()
		close(out)
	}()
	return out
}

// watchFile sends ChangeAll whenever SQLite's data version of the file
// changes: SQLite counts, on each connection, the commits made by every
// other connection, in this process or another.
func (d *Desk) watchFile(ctx context.Context, path string, out chan<- core.Change) {
	defer close(out)
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(1000)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		d.log.Warn("cannot watch the directory for changes", "err", err)
		<-ctx.Done()
		return
	}
	defer db.Close()
	// The data version is per connection: keep one.
	conn, err := db.Conn(ctx)
	if err != nil {
		d.log.Warn("cannot watch the directory for changes", "err", err)
		<-ctx.Done()
		return
	}
	defer conn.Close()
	version := func() (int64, error) {
		var v int64
		err := conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
		return v, err
	}
	last, err := version()
	if err != nil {
		d.log.Warn("cannot watch the directory for changes", "err", err)
	}
	send := func() bool {
		select {
		case out <- core.Change{Kind: core.ChangeAll}:
		case <-ctx.Done():
			return false
		default: // one ChangeAll waiting is as good as several
		}
		return true
	}
	send()
	tick := time.NewTicker(ChangePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		v, err := version()
		if err != nil {
			continue
		}
		if v != last {
			last = v
			if !send() {
				return
			}
		}
	}
}
