package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Importer imports JSONL files or standard input: one event per line, bad
// lines dead-lettered with file:line (stdin:-:line). Lines are decoded in parallel and written in file order, so
// the first line of a repeated id is the one stored.
type Importer struct {
	Store     warehouse.Store
	Decoder   Decoder
	BatchSize int // items and dead letters per warehouse write; default Store.BulkBatch()
	Workers   int // decoding goroutines; default GOMAXPROCS
	// Progress, when set, is called with the bytes consumed so far of the current input.
	Progress func(n int64)
}

// ImportSummary counts what an import did.
type ImportSummary struct {
	Lines   int64 `json:"lines"`   // non-blank lines read
	Blank   int64 `json:"blank"`   // blank lines, skipped
	Valid   int64 `json:"valid"`   // lines that decoded into a valid event
	Refused int64 `json:"refused"` // lines refused by decoding and validation
	warehouse.WriteResult
}

// Add sums two summaries.
func (s ImportSummary) Add(o ImportSummary) ImportSummary {
	return ImportSummary{Lines: s.Lines + o.Lines, Blank: s.Blank + o.Blank, Valid: s.Valid + o.Valid,
		Refused: s.Refused + o.Refused, WriteResult: s.WriteResult.Add(o.WriteResult)}
}

// ImportFile imports one JSONL file. Its dead letters' origins name the
// absolute path; importing the file again, or a copy, adds no dead letter.
func (im Importer) ImportFile(ctx context.Context, path string) (ImportSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return ImportSummary{}, err // "open PATH: …" says it all
	}
	defer f.Close()
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return im.Import(ctx, abs, f)
}

// chunk is a run of whole lines and, once decoded, their results.
type chunk struct {
	data      []byte
	firstLine int64
	newlines  int // lines in data, give or take the last one: sizes items
	items     []warehouse.Item
	letters   []model.DeadLetter
	lines     int64
	blank     int64
	done      chan struct{}
}

const chunkBytes = 1 << 20

// Import reads JSONL from r; name is the file recorded in the origins of its
// dead letters (file:NAME:LINE).
func (im Importer) Import(ctx context.Context, name string, r io.Reader) (ImportSummary, error) {
	return im.read(ctx, model.Origin{Kind: "file", Name: name}, r)
}

// ImportStdin reads JSONL from r, the standard input: its dead letters'
// origins are stdin:-:LINE.
func (im Importer) ImportStdin(ctx context.Context, r io.Reader) (ImportSummary, error) {
	return im.read(ctx, model.Origin{Kind: "stdin", Name: "-"}, r)
}

// read imports r; from names it, each line's origin adding the line number.
func (im Importer) read(ctx context.Context, from model.Origin, r io.Reader) (ImportSummary, error) {
	workers := im.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	size := im.BatchSize
	if size <= 0 {
		size = im.Store.BulkBatch()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The ordered queue holds about a batch of decoded chunks, so decoding
	// goes on while the previous batch is written.
	ordered := make(chan *chunk, max(workers*2, size/(chunkBytes/256)+1))
	work := make(chan *chunk, workers*2)
	// Each chunk's items are copied into the batch; their slices then go
	// back to the decoders instead of to the garbage collector.
	spare := make(chan []warehouse.Item, cap(ordered)+cap(work)+workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				im.decodeChunk(from, c, spare)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(work)
		defer close(ordered)
		readErr <- im.split(ctx, r, work, ordered)
	}()

	sum, writeErr := im.write(ctx, ordered, spare, size)
	cancel()
	for range ordered { // let the reader finish after a write error
	}
	wg.Wait()
	if err := <-readErr; err != nil && !errors.Is(err, context.Canceled) {
		return sum, fmt.Errorf("read %s: %w", from.Name, err)
	}
	if writeErr != nil {
		return sum, fmt.Errorf("import %s: %w", from.Name, writeErr)
	}
	return sum, nil
}

// split cuts r into chunks of whole lines and hands each to a decoder and,
// in order, to the writer.
func (im Importer) split(ctx context.Context, r io.Reader, work, ordered chan<- *chunk) error {
	var carry []byte
	var line int64 = 1
	var consumed int64
	for {
		buf := make([]byte, len(carry), len(carry)+chunkBytes)
		copy(buf, carry)
		n, err := io.ReadFull(r, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		last := err != nil
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return err
		}
		cut := len(buf)
		if !last {
			cut = bytes.LastIndexByte(buf, '\n') + 1 // 0 when one line outgrows the chunk: read more
		}
		carry = buf[cut:]
		if cut > 0 {
			c := &chunk{data: buf[:cut], firstLine: line, done: make(chan struct{})}
			c.newlines = bytes.Count(c.data, []byte{'\n'})
			line += int64(c.newlines)
			consumed += int64(cut)
			select {
			case work <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case ordered <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
			if im.Progress != nil {
				im.Progress(consumed)
			}
		}
		if last {
			return nil
		}
	}
}

func (im Importer) decodeChunk(from model.Origin, c *chunk, spare <-chan []warehouse.Item) {
	defer close(c.done)
	data := c.data
	select {
	case items := <-spare:
		c.items = items[:0]
	default:
	}
	if cap(c.items) <= c.newlines { // items are large: grow once, not by copying
		c.items = make([]warehouse.Item, 0, c.newlines+1)
	}
	for ln := c.firstLine; len(data) > 0; ln++ {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		l = bytes.TrimRight(l, "\r")
		if len(bytes.TrimSpace(l)) == 0 {
			c.blank++
			continue
		}
		c.lines++
		origin := from
		origin.Position = strconv.FormatInt(ln, 10)
		it, dl := im.Decoder.Decode(l, origin)
		if dl != nil {
			c.letters = append(c.letters, *dl)
		} else {
			c.items = append(c.items, it)
		}
	}
}

func (im Importer) write(ctx context.Context, ordered <-chan *chunk, spare chan<- []warehouse.Item, size int) (ImportSummary, error) {
	var sum ImportSummary
	b := NewBatcher(im.Store, size)
	err := func() error {
		for c := range ordered {
			<-c.done
			sum.Lines += c.lines
			sum.Blank += c.blank
			sum.Valid += int64(len(c.items))
			sum.Refused += int64(len(c.letters))
			if err := b.AddItems(ctx, c.items); err != nil {
				return err
			}
			clear(c.items)
			select {
			case spare <- c.items:
			default:
			}
			for _, dl := range c.letters {
				if err := b.AddDeadLetter(ctx, dl); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	if cerr := b.Close(ctx); err == nil {
		err = cerr
	}
	sum.WriteResult = b.Total()
	return sum, err
}
