package pipelines

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"

	"github.com/qcredit/qcredit/warehouse"
)

// OutputWriter takes a run's outputs in ascending key order, computes the
// run's digest over them and writes them to the warehouse in batches, on a
// goroutine of its own so a job computes the next batch meanwhile.
//
// The digest is the SHA-256 of "key TAB value TAB label TAB payload LF" per
// output in key order: the outputs only, so two backends (or two runs)
// agree exactly when their outputs do. (For a score that is "uscc TAB score
// in tenths TAB grade TAB reasons", the digest of runs before versioned
// outputs.)
type OutputWriter struct {
	digest  hash.Hash
	line    []byte
	last    string
	n       int64
	batch   []warehouse.OutputRow
	size    int
	batches chan []warehouse.OutputRow
	done    chan error
	err     error
}

// DefaultOutputBatch is the outputs per warehouse write: DuckDB appends
// large batches much faster (1M scores: 13 s of CPU at 200k, 20 s at 20k).
const DefaultOutputBatch = 200_000

func newOutputWriter(ctx context.Context, store RunStore, run warehouse.Run, size int) *OutputWriter {
	if size <= 0 {
		size = DefaultOutputBatch
	}
	w := &OutputWriter{digest: sha256.New(), size: size, batch: make([]warehouse.OutputRow, 0, size),
		batches: make(chan []warehouse.OutputRow, 1), done: make(chan error, 1)}
	go func() {
		var err error
		for b := range w.batches {
			if err == nil { // after a failure, drain so Add never blocks
				err = store.WriteOutputs(ctx, run.Job, run.Version, b)
			}
		}
		w.done <- err
	}()
	return w
}

// Add takes the next output. Its key must be greater than the previous
// one's; Payload must not change afterwards.
func (w *OutputWriter) Add(o warehouse.OutputRow) error {
	return w.add(o, true)
}

// AddUndigested takes the next output, in the same key order, without it
// counting in the run's digest: for what a run derives from the outputs
// published before it (a list's new version and its changes) rather than
// from its own inputs, so that a re-run --like it reproduces its digest
// (and publishes nothing new).
func (w *OutputWriter) AddUndigested(o warehouse.OutputRow) error {
	return w.add(o, false)
}

func (w *OutputWriter) add(o warehouse.OutputRow, digested bool) error {
	if w.err != nil {
		return w.err
	}
	if w.n > 0 && o.Key <= w.last {
		w.err = fmt.Errorf("output key %q after %q: outputs must come in ascending key order", o.Key, w.last)
		return w.err
	}
	w.last = o.Key
	w.n++
	if !digested {
		return w.append(o)
	}
	w.line = append(w.line[:0], o.Key...)
	w.line = append(w.line, '\t')
	w.line = strconv.AppendInt(w.line, o.Value, 10)
	w.line = append(w.line, '\t')
	w.line = append(w.line, o.Label...)
	w.line = append(w.line, '\t')
	w.line = append(w.line, o.Payload...)
	w.line = append(w.line, '\n')
	w.digest.Write(w.line)
	return w.append(o)
}

// append queues o and hands over a full batch.
func (w *OutputWriter) append(o warehouse.OutputRow) error {
	w.batch = append(w.batch, o)
	if len(w.batch) >= w.size {
		w.batches <- w.batch
		w.batch = make([]warehouse.OutputRow, 0, w.size)
	}
	return nil
}

// Count is the number of outputs taken so far.
func (w *OutputWriter) Count() int64 { return w.n }

// close writes what is left and returns the digest once every write is done.
func (w *OutputWriter) close() (string, error) {
	if len(w.batch) > 0 && w.err == nil {
		w.batches <- w.batch
	}
	close(w.batches)
	err := <-w.done
	if w.err != nil {
		return "", w.err
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(w.digest.Sum(nil)), nil
}
