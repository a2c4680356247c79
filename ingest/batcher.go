package ingest

import (
	"context"
	"fmt"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Batcher collects decoded input and writes it to the warehouse in batches,
// in the order added. Writes run one at a time on a goroutine of their own:
// the caller fills the next batch, and stages it when the store is a
// warehouse.Stager, while the last one is being written. It is not safe for
// concurrent use; each source owns one, and must Close it.
type Batcher struct {
	store  warehouse.Store
	size   int
	batch  warehouse.Batch
	writes chan batchWrite       // to the writer, in order
	spare  chan []warehouse.Item // item slices of written batches, for reuse
	done   chan struct{}         // closed when the writer has stopped
	closed bool

	// Set by the writer; read after done is closed.
	total warehouse.WriteResult
	err   error
}

// batchWrite is a batch handed to the writer.
type batchWrite struct {
	ctx    context.Context
	staged warehouse.StagedBatch
	items  []warehouse.Item // the batch's slice, reused once written
	size   int              // items and dead letters
}

// NewBatcher writes to store whenever size items, or size dead letters, are
// pending. Items alone decide for valid input, so each write inserts whole
// DuckDB row groups when size is a multiple of one (its BulkBatch).
func NewBatcher(store warehouse.Store, size int) *Batcher {
	b := &Batcher{store: store, size: max(size, 1), writes: make(chan batchWrite),
		spare: make(chan []warehouse.Item, 2), done: make(chan struct{})}
	go b.writer()
	return b
}

func (b *Batcher) writer() {
	defer close(b.done)
	for w := range b.writes {
		res, err := w.staged.Write(w.ctx)
		w.staged.Release()
		if err != nil {
			b.err = fmt.Errorf("write batch of %d: %w", w.size, err)
			return
		}
		b.total = b.total.Add(res)
		// A store keeps nothing of a batch once written: the items' memory is
		// reused for a later batch (at an import's 245,760 items, 75 MB that
		// need neither fresh pages nor a collection).
		if cap(w.items) == 0 {
			continue // a batch of dead letters only
		}
		clear(w.items)
		select {
		case b.spare <- w.items[:0]:
		default:
		}
	}
}

// AddItem queues a valid item; a full batch goes to the writer.
func (b *Batcher) AddItem(ctx context.Context, it warehouse.Item) error {
	return b.AddItems(ctx, []warehouse.Item{it})
}

// AddItems queues valid items in order; each batch that fills up goes to
// the writer. It returns the error of a failed write, after which nothing
// more is written.
func (b *Batcher) AddItems(ctx context.Context, items []warehouse.Item) error {
	for len(items) > 0 {
		if b.batch.Items == nil {
			select {
			case s := <-b.spare:
				b.batch.Items = s
			default:
				b.batch.Items = make([]warehouse.Item, 0, b.size) // items are large: grow once, not by copying
			}
		}
		n := min(len(items), b.size-len(b.batch.Items))
		b.batch.Items = append(b.batch.Items, items[:n]...)
		items = items[n:]
		if err := b.sendIfFull(ctx); err != nil {
			return err
		}
	}
	return nil
}

// AddDeadLetter queues refused input; a full batch goes to the writer.
func (b *Batcher) AddDeadLetter(ctx context.Context, dl model.DeadLetter) error {
	b.batch.DeadLetters = append(b.batch.DeadLetters, dl)
	return b.sendIfFull(ctx)
}

func (b *Batcher) sendIfFull(ctx context.Context) error {
	if len(b.batch.Items) < b.size && len(b.batch.DeadLetters) < b.size {
		return nil
	}
	return b.send(ctx)
}

// send stages the pending batch and hands it to the writer, waiting for the
// write before it to finish.
func (b *Batcher) send(ctx context.Context) error {
	size := len(b.batch.Items) + len(b.batch.DeadLetters)
	if size == 0 {
		return nil
	}
	w := batchWrite{ctx: ctx, items: b.batch.Items, size: size}
	if st, ok := b.store.(warehouse.Stager); ok {
		w.staged = st.Stage(b.batch)
	} else {
		w.staged = unstaged{b.store, b.batch}
	}
	select {
	case b.writes <- w:
		b.batch = warehouse.Batch{}
		return nil
	case <-b.done:
		w.staged.Release()
		return b.err
	}
}

// Close writes what is pending, waits for every write and returns the first
// error. The Batcher takes nothing more after it.
func (b *Batcher) Close(ctx context.Context) error {
	if b.closed {
		<-b.done
		return b.err
	}
	err := b.send(ctx)
	b.closed = true
	close(b.writes)
	<-b.done
	if err != nil {
		return err
	}
	return b.err
}

// Total sums the results of every write. Call it after Close: it waits for
// the writer to stop.
func (b *Batcher) Total() warehouse.WriteResult {
	<-b.done
	return b.total
}

// unstaged writes a batch to a store that cannot stage.
type unstaged struct {
	store warehouse.Store
	batch warehouse.Batch
}

func (u unstaged) Write(ctx context.Context) (warehouse.WriteResult, error) {
	return u.store.Write(ctx, u.batch)
}

func (unstaged) Release() {}
