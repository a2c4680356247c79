// Package warehouse defines the Store that ingest, pipelines and the API use,
// whatever the backend (warehouse/duckdb embedded, warehouse/clickhouse for
// scale-out), and the conformance suite both backends must pass.
package warehouse

import (
	"context"
	"errors"

	"github.com/qcredit/qcredit/model"
)

// ErrNotFound is returned by lookups of something the warehouse does not hold.
var ErrNotFound = errors.New("not found")

// ErrInUse is returned when another process holds the warehouse for writing
// (an embedded DuckDB file opened by a running `qcredit serve`).
var ErrInUse = errors.New("warehouse is in use by another process")

// ErrNoWarehouse is returned when a warehouse opened with OpenModeExisting
// does not exist.
var ErrNoWarehouse = errors.New("no warehouse")

// OpenMode says whether opening a warehouse may create it. Commands say
// which they need: one that only reads must not leave an empty warehouse
// behind where it was pointed at the wrong place, and report zeros.
type OpenMode int

const (
	// OpenModeCreate creates a missing warehouse: the DuckDB file and its
	// directories, the ClickHouse database.
	OpenModeCreate OpenMode = iota
	// OpenModeExisting creates nothing: a missing warehouse is ErrNoWarehouse.
	OpenModeExisting
)

// Store is the warehouse.
type Store interface {
	// Migrate applies the embedded migrations not yet applied and returns their names.
	Migrate(ctx context.Context) ([]string, error)
	// Write stores a batch atomically: records whose id is new are stored;
	// exact resends of stored events are counted as duplicates; records that
	// reuse a stored id with different content become conflict dead letters;
	// dead letters are stored once per key. When Write returns nil, everything
	// in the batch is durable, so callers may acknowledge the input. Write
	// keeps no reference to the batch once it returns: callers reuse its memory.
	Write(ctx context.Context, b Batch) (WriteResult, error)
	// BulkBatch is the number of events per Write at which this backend
	// imports a file fastest (measured on the 2-core reference machine).
	BulkBatch() int
	// Enterprise returns the latest state of one enterprise, or ErrNotFound.
	Enterprise(ctx context.Context, uscc model.USCC) (model.Enterprise, error)
	// Stats counts what the warehouse holds.
	Stats(ctx context.Context) (Stats, error)
	// Ping checks that the warehouse answers.
	Ping(ctx context.Context) error
	Close() error
}

// Stager is a Store that can do the part of a write that needs nothing
// stored (dedupe within the batch, encoding) ahead of the write itself, so
// a caller may stage the next batch while the last one is being written.
type Stager interface {
	Store
	// Stage prepares b to be written. b's memory must stay as it is until the
	// staged batch is released.
	Stage(b Batch) StagedBatch
}

// StagedBatch is a batch ready to be written.
type StagedBatch interface {
	// Write stores the batch as Store.Write would. Batches staged one after
	// another may be written in any order: the caller chooses.
	Write(ctx context.Context) (WriteResult, error)
	// Release frees what staging holds; call it once, written or not.
	Release()
}

// Item is one validated record with where it came from and its raw bytes,
// kept so a conflict can be dead-lettered whole.
type Item struct {
	Record model.Record
	Origin model.Origin
	Raw    []byte
}

// Batch is what one Write stores.
type Batch struct {
	Items       []Item
	DeadLetters []model.DeadLetter
}

// WriteResult counts what a Write did.
type WriteResult struct {
	Stored       int // new events
	Duplicates   int // exact resends, within the batch or of stored events
	Conflicts    int // different events reusing a stored id, dead-lettered
	DeadLettered int // dead letters newly stored (conflicts included)
	// DeadLetterRepeats counts dead letters already stored under the same key
	// (the same bad input delivered or imported again).
	DeadLetterRepeats int
}

// Add sums two results.
func (r WriteResult) Add(o WriteResult) WriteResult {
	return WriteResult{
		Stored:            r.Stored + o.Stored,
		Duplicates:        r.Duplicates + o.Duplicates,
		Conflicts:         r.Conflicts + o.Conflicts,
		DeadLettered:      r.DeadLettered + o.DeadLettered,
		DeadLetterRepeats: r.DeadLetterRepeats + o.DeadLetterRepeats,
	}
}

// Stats are counts over the whole warehouse, as printed by `qcredit stats`.
type Stats struct {
	Events      EventStats      `json:"events"`
	Enterprises int64           `json:"enterprises"`
	DeadLetters DeadLetterStats `json:"dead_letters"`
}

// NewStats returns zero stats with empty maps, so an empty warehouse prints
// {} rather than null.
func NewStats() Stats {
	return Stats{
		Events:      EventStats{ByType: map[string]int64{}, BySource: map[string]int64{}},
		DeadLetters: DeadLetterStats{ByReason: map[string]int64{}, ByOrigin: map[string]int64{}},
	}
}

// EventStats counts stored events.
type EventStats struct {
	Total    int64            `json:"total"`
	ByType   map[string]int64 `json:"by_type"`
	BySource map[string]int64 `json:"by_source"`
}

// DeadLetterStats counts stored dead letters.
type DeadLetterStats struct {
	Total    int64            `json:"total"`
	ByReason map[string]int64 `json:"by_reason"`
	ByOrigin map[string]int64 `json:"by_origin_kind"`
}
