package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// openStore opens the configured warehouse and applies pending migrations.
func (a *app) openStore(ctx context.Context) (warehouse.Store, error) {
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

func openWarehouse(ctx context.Context, raw string, a *app) (warehouse.Store, error) {
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
