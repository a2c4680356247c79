package ingest

import (
	"context"
	"fmt"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Batcher collects decoded input and writes it to the warehouse in batches.
// It is not safe for concurrent use; each source owns one.
type Batcher struct {
	store warehouse.Store
	size  int
	batch warehouse.Batch
	total warehouse.WriteResult
}

// NewBatcher writes to store whenever size items, or size dead letters, are
// pending. Items alone decide for valid input, so each write inserts whole
// DuckDB row groups when size is a multiple of one (its BulkBatch).
func NewBatcher(store warehouse.Store, size int) *Batcher {
	if size <= 0 {
		size = 1
	}
	return &Batcher{store: store, size: size}
}

// AddItem queues a valid item; it writes the batch when it is full.
func (b *Batcher) AddItem(ctx context.Context, it warehouse.Item) error {
	return b.AddItems(ctx, []warehouse.Item{it})
}

// AddItems queues valid items in order, writing each batch that fills up. On
// error the items after the failed batch are not queued.
func (b *Batcher) AddItems(ctx context.Context, items []warehouse.Item) error {
	for len(items) > 0 {
		if b.batch.Items == nil {
			b.batch.Items = make([]warehouse.Item, 0, b.size) // items are large: grow once, not by copying
		}
		n := min(len(items), b.size-len(b.batch.Items))
		b.batch.Items = append(b.batch.Items, items[:n]...)
		items = items[n:]
		if err := b.flushIfFull(ctx); err != nil {
			return err
		}
	}
	return nil
}

// AddDeadLetter queues refused input; it writes the batch when it is full.
func (b *Batcher) AddDeadLetter(ctx context.Context, dl model.DeadLetter) error {
	b.batch.DeadLetters = append(b.batch.DeadLetters, dl)
	return b.flushIfFull(ctx)
}

// Pending is the number of queued items and dead letters.
func (b *Batcher) Pending() int { return len(b.batch.Items) + len(b.batch.DeadLetters) }

func (b *Batcher) flushIfFull(ctx context.Context) error {
	if len(b.batch.Items) < b.size && len(b.batch.DeadLetters) < b.size {
		return nil
	}
	return b.Flush(ctx)
}

// Flush writes what is pending. On error the batch stays pending, so the
// caller may retry; nothing is acknowledged until Flush returns nil.
func (b *Batcher) Flush(ctx context.Context) error {
	if b.Pending() == 0 {
		return nil
	}
	res, err := b.store.Write(ctx, b.batch)
	if err != nil {
		return fmt.Errorf("write batch of %d: %w", b.Pending(), err)
	}
	b.total = b.total.Add(res)
	// A store keeps nothing of a batch once written: the items' memory is
	// reused for the next batch (at an import's 245,760 items, 75 MB that
	// need neither fresh pages nor a collection).
	clear(b.batch.Items)
	b.batch = warehouse.Batch{Items: b.batch.Items[:0]}
	return nil
}

// Total sums the results of every Write so far.
func (b *Batcher) Total() warehouse.WriteResult { return b.total }
