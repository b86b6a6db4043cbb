package programs

import (
	"context"
	"sync"
	"time"

	"ptdesk/core"
)

// maxBatch bounds the events committed together.
const maxBatch = 256

// batchTimeout bounds one group commit.
const batchTimeout = 10 * time.Second

// committer records webhooks with group commit: while one transaction is
// being synced, the events that arrive queue up, and the next transaction
// takes them all, so that many webhooks arriving together wait for one or
// two syncs instead of one each in turn. A webhook alone is committed at
// once.
type committer struct {
	store Recorder

	mu      sync.Mutex
	queue   []*pendingRecord
	running bool
}

type pendingRecord struct {
	e    *core.WebhookEvent
	done chan recordResult
}

type recordResult struct {
	duplicate bool
	err       error
}

// record queues e and waits until it is committed (or not). A caller that
// gives up (ctx) may still see its event recorded: it then answers an
// error, and the repeated delivery is recognised as a duplicate.
func (c *committer) record(ctx context.Context, e *core.WebhookEvent) (bool, error) {
	p := &pendingRecord{e: e, done: make(chan recordResult, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if !c.running {
		c.running = true
		go c.loop()
	}
	c.mu.Unlock()
	select {
	case r := <-p.done:
		return r.duplicate, r.err
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// loop commits what is queued, batch after batch, until the queue is
// empty.
func (c *committer) loop() {
	for {
		c.mu.Lock()
		n := min(len(c.queue), maxBatch)
		batch := c.queue[:n:n]
		c.queue = c.queue[n:]
		if n == 0 {
			c.running = false
			c.queue = nil
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.commit(batch)
	}
}

func (c *committer) commit(batch []*pendingRecord) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	events := make([]*core.WebhookEvent, len(batch))
	for i, p := range batch {
		events[i] = p.e
	}
	dups, err := c.store.RecordWebhooks(ctx, events)
	if err == nil {
		for i, p := range batch {
			p.done <- recordResult{duplicate: dups[i]}
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- recordResult{err: err}
		return
	}
	// One bad event must not fail the others: record them one by one.
	for _, p := range batch {
		dups, err := c.store.RecordWebhooks(ctx, []*core.WebhookEvent{p.e})
		if err != nil {
			p.done <- recordResult{err: err}
			continue
		}
		p.done <- recordResult{duplicate: dups[0]}
	}
}
