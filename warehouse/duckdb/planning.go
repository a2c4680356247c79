package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// The planning jobs' reads (warehouse/planning.go) and the planning records.

// notRetractedUpTo leaves out the events retracted (event.retracted) up to
// the watermark bound to its ? (see notRetracted in features.go).
const notRetractedUpTo = `id NOT IN (SELECT link FROM events WHERE type = 'event.retracted' AND ingested_at <= ?)`

// since is the window's lower bound as a bindable time (zero: none).
func since(w warehouse.Window) time.Time {
	if w.From.IsZero() {
		return time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return w.From
}

// PlanningEvents streams the events of q's types in its window, in
// (occurred_at, id) order (planningEventRows reads them: as Arrow batches
// in the duckdb_arrow build).
func (s *Store) PlanningEvents(ctx context.Context, q warehouse.EventQuery, fn func(warehouse.EventRow) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("planning events: %w", err)
	}
	query := `SELECT id, type, uscc, source, epoch_us(occurred_at), ref, link, result, severity, category,
		coalesce(strftime(due, '%Y-%m-%d'), ''), data
		FROM events WHERE type IN (` + q.TypeList() + `) AND occurred_at >= ? AND occurred_at < ? AND ingested_at <= ? AND ` + notRetractedUpTo + `
		ORDER BY occurred_at, id`
	if err := s.planningEventRows(ctx, query, []any{since(q.Window), q.Cutoff, q.Watermark, q.Watermark}, fn); err != nil {
		return fmt.Errorf("planning events: %w", err)
	}
	return nil
}

// FirmStates streams every firm registered before the cutoff, in USCC
// order, with its state as of the cutoff (the enterprises view, bounded).
func (s *Store) FirmStates(ctx context.Context, w warehouse.Window, fn func(warehouse.FirmState) error) error {
	if err := w.Validate(); err != nil {
		return fmt.Errorf("firm states: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT uscc,
		coalesce(arg_max(data->>'region', (occurred_at, id)) FILTER (WHERE data->>'region' IS NOT NULL AND type <> 'enterprise.deregistered'), ''),
		coalesce(arg_max(data->>'industry', (occurred_at, id)) FILTER (WHERE data->>'industry' IS NOT NULL AND type <> 'enterprise.deregistered'), ''),
		min(occurred_at) FILTER (WHERE type = 'enterprise.registered') AS registered_at,
		CASE WHEN arg_max(type, (occurred_at, id)) FILTER (WHERE type <> 'enterprise.updated') = 'enterprise.deregistered'
		     THEN max(occurred_at) FILTER (WHERE type = 'enterprise.deregistered') END
		FROM events
		WHERE type IN ('enterprise.registered', 'enterprise.updated', 'enterprise.deregistered')
		  AND occurred_at < ? AND ingested_at <= ? AND `+notRetractedUpTo+`
		GROUP BY uscc HAVING registered_at IS NOT NULL ORDER BY uscc`, w.Cutoff, w.Watermark, w.Watermark)
	if err != nil {
		return fmt.Errorf("firm states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f warehouse.FirmState
		var dereg sql.NullTime
		if err := rows.Scan(&f.USCC, &f.Region, &f.Industry, &f.RegisteredAt, &dereg); err != nil {
			return fmt.Errorf("firm states: %w", err)
		}
		f.DeregisteredAt = dereg.Time
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ProductChecks streams each firm's spot checks per product in the window,
// in (USCC, product) order.
func (s *Store) ProductChecks(ctx context.Context, q warehouse.ProductCheckQuery, fn func(warehouse.ProductCheck) error) error {
	if err := q.Window.Validate(); err != nil {
		return fmt.Errorf("product checks: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT uscc, category, count(*), count(*) FILTER (WHERE result = 'fail'),
		coalesce(list(id) FILTER (WHERE result = 'fail' AND occurred_at >= ?), [])
		FROM events WHERE type = 'spot_check.completed' AND occurred_at >= ? AND occurred_at < ? AND ingested_at <= ?
		  AND `+notRetractedUpTo+`
		GROUP BY uscc, category ORDER BY uscc, category`, q.RecentFrom, since(q.Window), q.Cutoff, q.Watermark, q.Watermark)
	if err != nil {
		return fmt.Errorf("product checks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p warehouse.ProductCheck
		var ids duckdbList
		if err := rows.Scan(&p.USCC, &p.Product, &p.Checks, &p.Failures, &ids); err != nil {
			return fmt.Errorf("product checks: %w", err)
		}
		p.RecentFailures = slices.Sorted(slices.Values(ids.strings))
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// duckdbList scans a DuckDB VARCHAR[] into strings.
type duckdbList struct{ strings []string }

func (l *duckdbList) Scan(v any) error {
	l.strings = l.strings[:0]
	if v == nil {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		return fmt.Errorf("list: got %T", v)
	}
	for _, it := range items {
		str, ok := it.(string)
		if !ok {
			return fmt.Errorf("list item: got %T", it)
		}
		l.strings = append(l.strings, str)
	}
	return nil
}

// monthCase is the bucket of a time column among the months of q, newest
// first so the first match wins: CASE WHEN col >= $m11 THEN 11 … END.
func monthCase(col string, q warehouse.MonthQuery, args *[]any) string {
	var b strings.Builder
	b.WriteString("CASE")
	for i := len(q.Starts) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, " WHEN %s >= ? THEN %d", col, i)
		*args = append(*args, q.Starts[i])
	}
	b.WriteString(" END")
	return b.String()
}

// MonthlyActivity counts, per source and month bucket, the events that
// occurred in it (delays truncated to whole seconds per event, as
// ClickHouse keeps them) and the dead letters received in it, by their
// source (empty where it could not be read).
func (s *Store) MonthlyActivity(ctx context.Context, q warehouse.MonthQuery) ([]warehouse.SourceMonth, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("monthly activity: %w", err)
	}
	var eargs, dargs []any
	ebucket := monthCase("occurred_at", q, &eargs)
	dbucket := monthCase("received_at", q, &dargs)
	eargs = append(eargs, int64(q.LateAfter/time.Second), q.Starts[0], q.Cutoff, q.Watermark, q.Watermark)
	dargs = append(dargs, q.Starts[0], q.Cutoff, q.Watermark)
	query := `SELECT source, m, sum(e), sum(d), sum(l), sum(dl) FROM (
		SELECT source, ` + ebucket + ` AS m, 1 AS e,
			greatest(0, epoch_us(ingested_at) // 1000000 - epoch_us(occurred_at) // 1000000) AS d,
			CASE WHEN epoch_us(ingested_at) // 1000000 - epoch_us(occurred_at) // 1000000 > ? THEN 1 ELSE 0 END AS l, 0 AS dl
		FROM events WHERE occurred_at >= ? AND occurred_at < ? AND ingested_at <= ? AND ` + notRetractedUpTo + `
		UNION ALL
		SELECT source, ` + dbucket + ` AS m,
			0, 0, 0, 1
		FROM dead_letters WHERE received_at >= ? AND received_at < ? AND received_at <= ?
	) GROUP BY source, m ORDER BY source, m`
	rows, err := s.db.QueryContext(ctx, query, append(eargs, dargs...)...)
	if err != nil {
		return nil, fmt.Errorf("monthly activity: %w", err)
	}
	defer rows.Close()
	var out []warehouse.SourceMonth
	for rows.Next() {
		var m warehouse.SourceMonth
		if err := rows.Scan(&m.Source, &m.Month, &m.Events, &m.DelaySeconds, &m.LateEvents, &m.DeadLetters); err != nil {
			return nil, fmt.Errorf("monthly activity: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CheckedFirms streams each firm with a spot check in a month bucket, once
// per (firm, bucket), in that order.
func (s *Store) CheckedFirms(ctx context.Context, q warehouse.MonthQuery, fn func(model.USCC, int) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("checked firms: %w", err)
	}
	var args []any
	bucket := monthCase("occurred_at", q, &args)
	args = append(args, q.Starts[0], q.Cutoff, q.Watermark, q.Watermark)
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT uscc, `+bucket+` AS m FROM events
		WHERE type = 'spot_check.completed' AND occurred_at >= ? AND occurred_at < ? AND ingested_at <= ? AND `+notRetractedUpTo+`
		ORDER BY uscc, m`, args...)
	if err != nil {
		return fmt.Errorf("checked firms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var m int
		if err := rows.Scan(&u, &m); err != nil {
			return fmt.Errorf("checked firms: %w", err)
		}
		if err := fn(model.USCC(u), m); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AddPlanningRecord stores a record, stamped with the clock of ingested_at
// (so watermarks bound records as they bound events), and returns it.
func (s *Store) AddPlanningRecord(ctx context.Context, r warehouse.PlanningRecord) (warehouse.PlanningRecord, error) {
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("planning record: %w", err)
	}
	s.writeM.Lock()
	defer s.writeM.Unlock()
	r.RecordedAt = s.stamp()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO planning_records (kind, key, recorded_at, body) VALUES (?, ?, ?, ?)`,
		string(r.Kind), r.Key, r.RecordedAt, string(r.Body)); err != nil {
		return r, fmt.Errorf("store %s record %s: %w", r.Kind, r.Key, err)
	}
	return r, nil
}

// PlanningRecords lists the records of q, by key, then as recorded.
func (s *Store) PlanningRecords(ctx context.Context, q warehouse.RecordQuery) ([]warehouse.PlanningRecord, error) {
	where, args := "kind = ?", []any{string(q.Kind)}
	if q.Key != "" {
		where, args = where+" AND key = ?", append(args, q.Key)
	}
	if !q.Cutoff.IsZero() {
		where, args = where+" AND recorded_at < ?", append(args, q.Cutoff)
	}
	if !q.Watermark.IsZero() {
		where, args = where+" AND recorded_at <= ?", append(args, q.Watermark)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT kind, key, recorded_at, body FROM planning_records WHERE `+where+
		` ORDER BY key, recorded_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("planning records: %w", err)
	}
	defer rows.Close()
	var out []warehouse.PlanningRecord
	for rows.Next() {
		var r warehouse.PlanningRecord
		var kind, body string
		if err := rows.Scan(&kind, &r.Key, &r.RecordedAt, &body); err != nil {
			return nil, fmt.Errorf("planning records: %w", err)
		}
		r.Kind, r.Body = warehouse.RecordKind(kind), []byte(body)
		out = append(out, r)
	}
	return out, rows.Err()
}

// StoreDrawSeed keeps a draw's secret seed; a second seed for the same draw
// is refused (ErrSeedExists).
func (s *Store) StoreDrawSeed(ctx context.Context, drawID string, seed []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO draw_seeds (draw_id, seed, stored_at) VALUES (?, ?, now())`, drawID, seed)
	if err != nil && strings.Contains(err.Error(), "primary key constraint") {
		return fmt.Errorf("seed of draw %s: %w", drawID, warehouse.ErrSeedExists)
	}
	if err != nil {
		return fmt.Errorf("seed of draw %s: %w", drawID, err)
	}
	return nil
}

// DrawSeed is a draw's secret seed, or ErrNotFound.
func (s *Store) DrawSeed(ctx context.Context, drawID string) ([]byte, error) {
	var seed []byte
	err := s.db.QueryRowContext(ctx, `SELECT seed FROM draw_seeds WHERE draw_id = ?`, drawID).Scan(&seed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("seed of draw %s: %w", drawID, warehouse.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("seed of draw %s: %w", drawID, err)
	}
	return seed, nil
}
