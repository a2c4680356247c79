package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/simulate"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// importBench is one backend's measured import.
type importBench struct {
	Backend      string  `json:"backend"`
	Batch        int     `json:"batch"`
	Events       int     `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
}

func newBenchImportCmd(a *app) *cobra.Command {
	var events, batch int
	var chURL, dir string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Time importing N simulated events into DuckDB (and ClickHouse with --clickhouse)",
		Long: `Simulates N events (not timed) into a JSONL file, then times qcredit's import
of that file into a fresh DuckDB file and, when --clickhouse is given, into a
fresh ClickHouse database, in the same run. Prints events/s per backend and
their ratio as JSON.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bulkGC()
			ctx := cmd.Context()
			work, err := os.MkdirTemp(dir, "qcredit-bench-import-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(work)
			file := filepath.Join(work, "events.jsonl")
			a.log.Info("simulating", "events", events, "file", file)
			if err := writeSimulation(file, simulate.Config{Events: events, Years: 3, Seed: 7,
				End: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
				return err
			}
			var results []importBench
			duck, err := duckdb.Open(ctx, filepath.Join(work, "bench.duckdb"), a.log)
			if err != nil {
				return err
			}
			r, err := timeImport(ctx, "duckdb", duck, file, batch, duck.Close) // DuckDB checkpoints on close
			if err != nil {
				return err
			}
			results = append(results, r)
			if chURL != "" {
				ch, err := clickhouse.Open(ctx, fmt.Sprintf("%s/qcredit_bench_%d", chURL, time.Now().UnixNano()), a.log)
				if err != nil {
					return err
				}
				r, err := timeImport(ctx, "clickhouse", ch, file, batch, func() error { return nil })
				if derr := ch.DropDatabase(context.WithoutCancel(ctx)); derr != nil {
					a.log.Warn("drop bench database", "err", derr)
				}
				ch.Close()
				if err != nil {
					return err
				}
				results = append(results, r)
			}
			report := map[string]any{"cpus": runtime.NumCPU(), "results": results}
			if len(results) == 2 {
				report["clickhouse_over_duckdb"] = results[1].EventsPerSec / results[0].EventsPerSec
			}
			return printJSON(cmd, report)
		},
	}
	cmd.Flags().IntVar(&events, "events", 1_000_000, "events to simulate and import")
	cmd.Flags().IntVar(&batch, "batch-size", 0, "events per warehouse write (default: each backend's own, as qcredit import uses)")
	deprecatedAlias(cmd.Flags(), "batch", "batch-size")
	cmd.Flags().StringVar(&chURL, "clickhouse", "", "also import into ClickHouse at this clickhouse://HOST:PORT (a fresh database is created and dropped)")
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the simulated file and the DuckDB file (default: system temp)")
	return cmd
}

// timeImport migrates the store (not timed), then times importing file into
// it up to and including finish.
func timeImport(ctx context.Context, name string, s warehouse.Store, file string, batch int, finish func() error) (importBench, error) {
	if _, err := s.Migrate(ctx); err != nil {
		return importBench{}, err
	}
	if batch <= 0 {
		batch = s.BulkBatch()
	}
	start := time.Now()
	sum, err := ingest.Importer{Store: s, BatchSize: batch}.ImportFile(ctx, file)
	if err != nil {
		return importBench{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := finish(); err != nil {
		return importBench{}, fmt.Errorf("%s: %w", name, err)
	}
	el := time.Since(start).Seconds()
	return importBench{Backend: name, Batch: batch, Events: int(sum.Stored), Seconds: el, EventsPerSec: float64(sum.Stored) / el}, nil
}
