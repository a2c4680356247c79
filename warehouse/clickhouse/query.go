package clickhouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Enterprise returns one enterprise's latest state.
func (s *Store) Enterprise(ctx context.Context, uscc model.USCC) (model.Enterprise, error) {
	var e model.Enterprise
	var id, scale string
	var registered *time.Time
	var deregistered uint8
	// The filter is pushed into the view's GROUP BY (the default from 19.x on;
	// 18.16 needs the setting), else every lookup aggregates every enterprise.
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"enable_optimize_predicate_expression": 1}))
	err := s.conn.QueryRow(ctx, fmt.Sprintf(`SELECT uscc, name, region, industry, cluster, scale, registered_at, deregistered, updated_at
		FROM %s WHERE uscc = ?`, s.table("enterprises")), string(uscc)).
		Scan(&id, &e.Name, &e.Region, &e.Industry, &e.Cluster, &scale, &registered, &deregistered, &e.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return e, warehouse.ErrNotFound
	}
	if err != nil {
		return e, fmt.Errorf("read enterprise %s: %w", uscc, err)
	}
	e.USCC, e.Scale, e.Deregistered = model.USCC(id), model.Scale(scale), deregistered == 1
	if registered != nil {
		e.RegisteredAt = *registered
	}
	return e, nil
}

// Stats counts events, enterprises and dead letters, each id or key once
// (FINAL: see the package doc).
func (s *Store) Stats(ctx context.Context) (warehouse.Stats, error) {
	st := warehouse.NewStats()
	groups := []struct {
		table, column string
		into          map[string]int64
		total         *int64
	}{
		{"events", "type", st.Events.ByType, &st.Events.Total},
		{"events", "source", st.Events.BySource, nil},
		{"dead_letters", "reason", st.DeadLetters.ByReason, &st.DeadLetters.Total},
	}
	for _, g := range groups {
		if err := s.countGroups(ctx, g.table, g.column, g.into, g.total); err != nil {
			return st, err
		}
	}
	// A dead letter seen from several origins of one kind counts once for it.
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT toString(origin_kind), uniqExact(key) FROM %s GROUP BY origin_kind`,
		s.table("dead_letter_origins")))
	if err != nil {
		return st, fmt.Errorf("stats dead letters by origin: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n uint64
		if err := rows.Scan(&kind, &n); err != nil {
			return st, fmt.Errorf("stats dead letters by origin: %w", err)
		}
		st.DeadLetters.ByOrigin[kind] = int64(n)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("stats dead letters by origin: %w", err)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.table("enterprises")).Scan(&n); err != nil {
		return st, fmt.Errorf("count enterprises: %w", err)
	}
	st.Enterprises = int64(n)
	return st, nil
}

func (s *Store) countGroups(ctx context.Context, table, column string, into map[string]int64, total *int64) error {
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT toString(%s), count() FROM %s %s GROUP BY %[1]s`,
		column, s.table(table), s.final()))
	if err != nil {
		return fmt.Errorf("stats %s by %s: %w", table, column, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n uint64
		if err := rows.Scan(&k, &n); err != nil {
			return fmt.Errorf("stats %s by %s: %w", table, column, err)
		}
		into[k] = int64(n)
		if total != nil {
			*total += int64(n)
		}
	}
	return rows.Err()
}

// final is the dedupe-on-read clause for counts.
func (s *Store) final() string { return "FINAL" }

// Enterprises streams every enterprise's latest state in USCC order.
func (s *Store) Enterprises(ctx context.Context, fn func(model.Enterprise) error) error {
	return s.enterprises(ctx, "", fn)
}

// EnterprisesSince are the enterprises whose enterprise.* events were
// ingested after t, in USCC order.
func (s *Store) EnterprisesSince(ctx context.Context, t time.Time) ([]model.Enterprise, error) {
	var out []model.Enterprise
	where := fmt.Sprintf(`WHERE uscc GLOBAL IN (SELECT uscc FROM %s WHERE type IN ('enterprise.registered',
		'enterprise.updated', 'enterprise.deregistered') AND ingested_us > %d)`, s.table("events"), micros(t))
	err := s.enterprises(ctx, where, func(e model.Enterprise) error { out = append(out, e); return nil })
	return out, err
}

func (s *Store) enterprises(ctx context.Context, where string, fn func(model.Enterprise) error) error {
	ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"enable_optimize_predicate_expression": 1}))
	rows, err := s.conn.Query(ctx, `SELECT uscc, name, region, industry, cluster, scale, registered_at, deregistered, updated_at
		FROM `+s.table("enterprises")+` `+where+` ORDER BY uscc`)
	if err != nil {
		return fmt.Errorf("read enterprises: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e model.Enterprise
		var id, scale string
		var registered *time.Time
		var deregistered uint8
		if err := rows.Scan(&id, &e.Name, &e.Region, &e.Industry, &e.Cluster, &scale, &registered, &deregistered, &e.UpdatedAt); err != nil {
			return fmt.Errorf("read enterprises: %w", err)
		}
		e.USCC, e.Scale, e.Deregistered = model.USCC(id), model.Scale(scale), deregistered == 1
		if registered != nil {
			e.RegisteredAt = *registered
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}
