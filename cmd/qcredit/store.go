package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// backend is everything the commands wire to the warehouse: the small
// interfaces each package owns, all of which both backends implement, so
// no command has to discover a capability at run time.
type backend interface {
	warehouse.Store
	pipelines.RunStore
	pipelines.ScoreFeatures
	pipelines.ListsSource
	pipelines.ActivitySource
	pipelines.PlanSource
	pipelines.KPISource
	pipelines.RecheckSource
	pipelines.LotteryStore
	pipelines.ClusterSource
	serving.Source
	api.Warehouse
	deadLetterReader
	// Optimize reorganises storage for fast reads after bulk writes.
	Optimize(ctx context.Context) error
	// ReleaseMemory gives back what the backend cached of tables it read,
	// while nothing else uses it.
	ReleaseMemory(ctx context.Context) error
}

var (
	_ backend = (*duckdb.Store)(nil)
	_ backend = (*clickhouse.Store)(nil)
)

// openStore opens the configured warehouse for a command that may create it
// (migrate, import, ingest, serve, dev) and applies pending migrations.
func (a *app) openStore(ctx context.Context) (backend, error) {
	return a.openStoreMode(ctx, warehouse.OpenModeCreate)
}

// openStoreMode opens the configured warehouse and applies pending
// migrations. OpenModeExisting is for commands that only read or need data
// already there (stats, dead-letters, pipeline): a missing warehouse is an
// error naming it and how to create it, and nothing is created (no empty
// data/qcredit.duckdb in the wrong directory).
func (a *app) openStoreMode(ctx context.Context, mode warehouse.OpenMode) (backend, error) {
	s, err := openWarehouse(ctx, a.cfg.Warehouse, mode, a)
	if err != nil {
		return nil, err
	}
	applied, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for _, m := range applied {
		a.log.Info("migration applied", "migration", m)
	}
	return s, nil
}

func openWarehouse(ctx context.Context, raw string, mode warehouse.OpenMode, a *app) (backend, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("warehouse %q: want duckdb://PATH or clickhouse://HOST:PORT/DB", raw)
	}
	switch scheme {
	case "duckdb":
		return duckdb.OpenWith(ctx, rest, mode, a.log) // duckdb://data/x.duckdb is relative, duckdb:///abs/x.duckdb absolute
	case "clickhouse":
		return clickhouse.OpenWith(ctx, raw, mode, a.log)
	default:
		return nil, fmt.Errorf("warehouse %q: unknown scheme %q (want duckdb or clickhouse)", raw, scheme)
	}
}

// decoder is the one decode-and-validate path, as configured.
func (a *app) decoder() ingest.Decoder {
	return ingest.Decoder{
		Policy:          model.USCCPolicy{AcceptCheckFailures: a.cfg.USCC.AcceptCheckFailures},
		FutureTolerance: a.cfg.Ingest.FutureTolerance,
	}
}
