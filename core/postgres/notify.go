package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"ptdesk/core"
)

// Every write the store commits sends a notification on the directory's
// channel (NOTIFY, in the writing transaction, so it goes out only if the
// write is committed), with a small JSON payload: {"kind":"patient",
// "id":"12"}. A DB listens on one connection of its own, opened when the
// first caller asks for Changes, and hands every notification, its own
// writes' included, to every caller.

// Timings of the listener.
const (
	// listenCheck is how long the listener waits for a notification before
	// it checks that its connection is still alive.
	listenCheck = 30 * time.Second
	// The listener retries a lost connection after a pause that doubles
	// from reconnectMin up to reconnectMax.
	reconnectMin = 100 * time.Millisecond
	reconnectMax = 5 * time.Second
	// changeBuffer is how many changes a receiver may fall behind by.
	changeBuffer = 64
)

func encodeChange(c core.Change) string {
	b, _ := json.Marshal(c) // two strings cannot fail to encode
	return string(b)
}

// Changes delivers every change to the directory, from any desk, within
// moments of its commit, until ctx ends; then the channel is closed. The
// first change delivered once the listener is listening is ChangeAll, and
// so is the first after the connection was lost and is back (changes made
// meanwhile are not delivered one by one). A receiver more than a few dozen
// changes behind loses some, and gets ChangeAll instead.
func (db *DB) Changes(ctx context.Context) <-chan core.Change {
	ch := make(chan core.Change, changeBuffer)
	if db.feed == nil {
		close(ch)
		return ch
	}
	if !db.feed.add(ch) {
		close(ch)
		return ch
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-db.feed.stopped:
		}
		db.feed.remove(ch)
	}()
	return ch
}

// feed is the listener of a DB and the receivers of its changes.
type feed struct {
	db *DB

	mu      sync.Mutex
	subs    map[chan core.Change]*subscriber
	started bool
	// listening reports a connection that is listening now.
	listening bool
	closed    bool
	cancel    context.CancelFunc
	stopped   chan struct{} // closed by close
	done      chan struct{} // closed when the listener has returned
}

// subscriber is one receiver; missed records a change it could not take.
type subscriber struct{ missed bool }

func newFeed(db *DB) *feed {
	return &feed{db: db, subs: map[chan core.Change]*subscriber{}, stopped: make(chan struct{}), done: make(chan struct{})}
}

// add registers ch, starting the listener on first use; false after close.
func (f *feed) add(ch chan core.Change) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.subs[ch] = &subscriber{}
	if f.listening {
		// A receiver that joins a listening feed starts as every
		// receiver does.
		ch <- core.Change{Kind: core.ChangeAll}
	}
	if !f.started {
		f.started = true
		ctx, cancel := context.WithCancel(context.Background())
		f.cancel = cancel
		go f.listen(ctx)
	}
	return true
}

// remove unregisters and closes ch.
func (f *feed) remove(ch chan core.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[ch]; ok {
		delete(f.subs, ch)
		close(ch)
	}
}

// close stops the listener and closes every receiver's channel.
func (f *feed) close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	started := f.started
	if f.cancel != nil {
		f.cancel()
	}
	close(f.stopped)
	f.mu.Unlock()
	if started {
		<-f.done
	}
	f.mu.Lock()
	for ch := range f.subs {
		delete(f.subs, ch)
		close(ch)
	}
	f.mu.Unlock()
}

// broadcast hands c to every receiver without waiting for any.
func (f *feed) broadcast(c core.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch, s := range f.subs {
		if s.missed {
			select {
			case ch <- core.Change{Kind: core.ChangeAll}:
				s.missed = false
			default:
				continue
			}
		}
		select {
		case ch <- c:
		default:
			s.missed = true
		}
	}
}

// listen keeps a connection listening on the channel until ctx ends,
// reconnecting whenever it is lost.
func (f *feed) listen(ctx context.Context) {
	defer close(f.done)
	log := f.db.log
	pause := reconnectMin
	for ctx.Err() == nil {
		conn, err := f.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("clinic database: cannot listen for changes; retrying", "err", reasonOf(err), "retry_in", pause)
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, reconnectMax)
			continue
		}
		pause = reconnectMin
		f.setListening(true)
		f.broadcast(core.Change{Kind: core.ChangeAll})
		err = f.receive(ctx, conn)
		f.setListening(false)
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		log.Warn("clinic database: lost the connection that listens for changes; reconnecting", "err", reasonOf(err))
	}
}

func (f *feed) setListening(on bool) {
	f.mu.Lock()
	f.listening = on
	f.mu.Unlock()
}

// connect opens the listening connection, with the pool's settings.
func (f *feed) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, f.db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{f.db.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// receive hands on notifications until the connection fails or ctx ends.
func (f *feed) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wait, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			var c core.Change
			if json.Unmarshal([]byte(n.Payload), &c) != nil || c.Kind == "" {
				c = core.Change{Kind: core.ChangeAll}
			}
			f.broadcast(c)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			// Quiet for a while: make sure the connection is still there.
			if err := conn.Ping(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}
