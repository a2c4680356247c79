package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Enterprise returns one enterprise's latest state.
func (s *Store) Enterprise(ctx context.Context, uscc model.USCC) (model.Enterprise, error) {
	var e model.Enterprise
	var name, region, industry, cluster, scale sql.NullString
	var registered sql.NullTime
	var updated time.Time
	err := s.db.QueryRowContext(ctx, `SELECT uscc, name, region, industry, cluster, scale, registered_at, deregistered, updated_at
		FROM enterprises WHERE uscc = ?`, string(uscc)).
		Scan(&e.USCC, &name, &region, &industry, &cluster, &scale, &registered, &e.Deregistered, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return e, warehouse.ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("read enterprise %s: %w", uscc, err)
	}
	e.Name, e.Region, e.Industry, e.Cluster, e.Scale = name.String, region.String, industry.String, cluster.String, model.Scale(scale.String)
	e.RegisteredAt, e.UpdatedAt = registered.Time, updated
	return e, nil
}

// Stats counts events, enterprises and dead letters.
func (s *Store) Stats(ctx context.Context) (warehouse.Stats, error) {
	st := warehouse.NewStats()
	groups := []struct {
		query string
		into  map[string]int64
		total *int64
	}{
		{`SELECT type, count(*) FROM events GROUP BY type`, st.Events.ByType, &st.Events.Total},
		{`SELECT source, count(*) FROM events GROUP BY source`, st.Events.BySource, nil},
		{`SELECT reason, count(*) FROM dead_letters GROUP BY reason`, st.DeadLetters.ByReason, &st.DeadLetters.Total},
		{`SELECT origin_kind, count(DISTINCT key) FROM dead_letter_origins GROUP BY origin_kind`, st.DeadLetters.ByOrigin, nil},
	}
	for _, g := range groups {
		if err := countGroups(ctx, s.db, g.query, g.into, g.total); err != nil {
			return st, err
		}
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM enterprises`).Scan(&st.Enterprises); err != nil {
		return st, fmt.Errorf("count enterprises: %w", err)
	}
	return st, nil
}

func countGroups(ctx context.Context, db *sql.DB, query string, into map[string]int64, total *int64) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		into[k] = n
		if total != nil {
			*total += n
		}
	}
	return rows.Err()
}
