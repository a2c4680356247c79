package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/qcredit/qcredit/api"
	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/serving"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// backend is everything the commands wire to the warehouse: the small
// interfaces each package owns, all of which both backends implement.
type backend interface {
	warehouse.Store
	pipelines.RunStore
	pipelines.ScoreFeatures
	pipelines.ListsSource
	serving.Source
	api.Warehouse
	// Optimize reorganises storage for fast reads after bulk writes.
	Optimize(ctx context.Context) error
}

var (
	_ backend = (*duckdb.Store)(nil)
	_ backend = (*clickhouse.Store)(nil)
)

// openStore opens the configured warehouse and applies pending migrations.
func (a *app) openStore(ctx context.Context) (backend, error) {
	s, err := openWarehouse(ctx, a.cfg.Warehouse, a)
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

func openWarehouse(ctx context.Context, raw string, a *app) (backend, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("warehouse %q: want duckdb://PATH or clickhouse://HOST:PORT/DB", raw)
	}
	switch scheme {
	case "duckdb":
		return duckdb.Open(ctx, rest, a.log) // duckdb://data/x.duckdb is relative, duckdb:///abs/x.duckdb absolute
	case "clickhouse":
		return clickhouse.Open(ctx, raw, a.log)
	default:
		return nil, fmt.Errorf("warehouse %q: unknown scheme %q (want duckdb or clickhouse)", raw, scheme)
	}
}
