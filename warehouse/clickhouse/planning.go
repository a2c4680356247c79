package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// The planning jobs' reads (warehouse/planning.go) and the planning records.
// Times are Unix seconds and watermarks microseconds, formatted in.

func unixSince(w warehouse.Window) int64 {
	if w.From.IsZero() {
		return 0
	}
	return w.From.Unix()
}

// PlanningEvents streams the events of q's types in its window, in
// (occurred_at, id) order, each id once.
func (s *Store) PlanningEvents(ctx context.Context, q warehouse.EventQuery, fn func(warehouse.EventRow) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("planning events: %w", err)
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT id, type, uscc, source, occurred_at, ref, link, result, severity, category,
		ifNull(toString(due), ''), data
		FROM %s FINAL WHERE type IN (%s) AND occurred_at >= toDateTime(%d) AND occurred_at < toDateTime(%d) AND ingested_us <= %d
		  AND %s
		ORDER BY occurred_at, id`, s.table("events"), q.TypeList(), unixSince(q.Window), q.Cutoff.Unix(), micros(q.Watermark),
		s.notRetracted(q.Watermark)))
	if err != nil {
		return fmt.Errorf("planning events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e warehouse.EventRow
		var typ, uscc, data string
		f := &e.Facets
		if err := rows.Scan(&e.ID, &typ, &uscc, &e.Source, &e.OccurredAt, &f.Ref, &f.Link, &f.Result, &f.Severity, &f.Category, &f.Due, &data); err != nil {
			return fmt.Errorf("planning events: %w", err)
		}
		e.Type, e.USCC, e.Data = model.EventType(typ), model.USCC(uscc), []byte(data)
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// FirmStates streams every firm registered before the cutoff, in USCC
// order, with its state as of the cutoff (the enterprises view, bounded;
// its aggregates are the same whether a row is stored once or twice).
func (s *Store) FirmStates(ctx context.Context, w warehouse.Window, fn func(warehouse.FirmState) error) error {
	if err := w.Validate(); err != nil {
		return fmt.Errorf("firm states: %w", err)
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT uscc,
		argMaxIf(visitParamExtractString(data, 'region'), (occurred_at, id), visitParamHas(data, 'region') AND type != 'enterprise.deregistered'),
		argMaxIf(visitParamExtractString(data, 'industry'), (occurred_at, id), visitParamHas(data, 'industry') AND type != 'enterprise.deregistered'),
		minIf(occurred_at, type = 'enterprise.registered'),
		countIf(type = 'enterprise.registered') AS registrations,
		if(argMaxIf(type, (occurred_at, id), type != 'enterprise.updated') = 'enterprise.deregistered',
		   toUInt32(maxIf(occurred_at, type = 'enterprise.deregistered')), toUInt32(0))
		FROM %s
		WHERE type IN ('enterprise.registered', 'enterprise.updated', 'enterprise.deregistered')
		  AND occurred_at < toDateTime(%d) AND ingested_us <= %d AND %s
		GROUP BY uscc HAVING registrations > 0 ORDER BY uscc`, s.table("events_by_uscc"), w.Cutoff.Unix(), micros(w.Watermark),
		s.notRetracted(w.Watermark)))
	if err != nil {
		return fmt.Errorf("firm states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f warehouse.FirmState
		var uscc string
		var n uint64
		var dereg uint32
		if err := rows.Scan(&uscc, &f.Region, &f.Industry, &f.RegisteredAt, &n, &dereg); err != nil {
			return fmt.Errorf("firm states: %w", err)
		}
		f.USCC = model.USCC(uscc)
		if dereg > 0 {
			f.DeregisteredAt = time.Unix(int64(dereg), 0)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ProductChecks streams each firm's spot checks per product in the window,
// in (USCC, product) order, each check once.
func (s *Store) ProductChecks(ctx context.Context, q warehouse.ProductCheckQuery, fn func(warehouse.ProductCheck) error) error {
	if err := q.Window.Validate(); err != nil {
		return fmt.Errorf("product checks: %w", err)
	}
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT uscc, category, count(), countIf(result = 'fail'),
		arraySort(groupArrayIf(id, result = 'fail' AND occurred_at >= toDateTime(%d)))
		FROM %s FINAL WHERE type = 'spot_check.completed' AND occurred_at >= toDateTime(%d) AND occurred_at < toDateTime(%d)
		  AND ingested_us <= %d AND %s
		GROUP BY uscc, category ORDER BY uscc, category`,
		q.RecentFrom.Unix(), s.table("events"), unixSince(q.Window), q.Cutoff.Unix(), micros(q.Watermark), s.notRetracted(q.Watermark)))
	if err != nil {
		return fmt.Errorf("product checks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p warehouse.ProductCheck
		var uscc string
		var checks, failures uint64
		if err := rows.Scan(&uscc, &p.Product, &checks, &failures, &p.RecentFailures); err != nil {
			return fmt.Errorf("product checks: %w", err)
		}
		p.USCC, p.Checks, p.Failures = model.USCC(uscc), int64(checks), int64(failures)
		p.RecentFailures = slices.Sorted(slices.Values(p.RecentFailures)) // the same byte order as Go's
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// monthIf is the bucket of a time column among the months of q, newest
// first so the first match wins; rows before the first month are filtered
// out by the caller, so the last branch is bucket 0.
func monthIf(col string, q warehouse.MonthQuery) string {
	if len(q.Starts) == 1 {
		return "materialize(toUInt8(0))"
	}
	var b strings.Builder
	b.WriteString("multiIf(")
	for i := len(q.Starts) - 1; i >= 1; i-- {
		fmt.Fprintf(&b, "%s >= toDateTime(%d), %d, ", col, q.Starts[i].Unix(), i)
	}
	b.WriteString("0)")
	return "toUInt8(" + b.String() + ")"
}

// MonthlyActivity counts, per source and month bucket, the events that
// occurred in it and the dead letters received in it (by their source,
// empty where it could not be read), each id and key once.
// materialize(): 18.16 refuses a UNION ALL of constants with columns.
func (s *Store) MonthlyActivity(ctx context.Context, q warehouse.MonthQuery) ([]warehouse.SourceMonth, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("monthly activity: %w", err)
	}
	from, cutoff, wm := q.Starts[0].Unix(), q.Cutoff.Unix(), micros(q.Watermark)
	delay := "(toInt64(intDiv(ingested_us, 1000000)) - toInt64(occurred_at))"
	query := fmt.Sprintf(`SELECT source, m, sum(e), sum(d), sum(l), sum(dl) FROM (
		SELECT source, %[1]s AS m, materialize(toUInt64(1)) AS e, toUInt64(greatest(0, %[2]s)) AS d,
			toUInt64(%[2]s > %[3]d) AS l, materialize(toUInt64(0)) AS dl
		FROM %[4]s FINAL WHERE occurred_at >= toDateTime(%[5]d) AND occurred_at < toDateTime(%[6]d) AND ingested_us <= %[7]d
		  AND %[10]s
		UNION ALL
		SELECT source, %[8]s AS m, materialize(toUInt64(0)) AS e,
			materialize(toUInt64(0)) AS d, materialize(toUInt64(0)) AS l, materialize(toUInt64(1)) AS dl
		FROM %[9]s FINAL WHERE received_at >= toDateTime(%[5]d) AND received_at < toDateTime(%[6]d)
		  AND toUInt64(received_at) * 1000000 <= %[7]d
	) GROUP BY source, m ORDER BY source, m`,
		monthIf("occurred_at", q), delay, int64(q.LateAfter/time.Second), s.table("events"), from, cutoff, wm,
		monthIf("received_at", q), s.table("dead_letters"), s.notRetracted(q.Watermark))
	rows, err := s.conn.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("monthly activity: %w", err)
	}
	defer rows.Close()
	var out []warehouse.SourceMonth
	for rows.Next() {
		var m warehouse.SourceMonth
		var bucket uint8
		var e, d, l, dl uint64
		if err := rows.Scan(&m.Source, &bucket, &e, &d, &l, &dl); err != nil {
			return nil, fmt.Errorf("monthly activity: %w", err)
		}
		m.Month, m.Events, m.DelaySeconds, m.LateEvents, m.DeadLetters = int(bucket), int64(e), int64(d), int64(l), int64(dl)
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
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT DISTINCT uscc, %s AS m FROM %s
		WHERE type = 'spot_check.completed' AND occurred_at >= toDateTime(%d) AND occurred_at < toDateTime(%d) AND ingested_us <= %d
		  AND %s
		ORDER BY uscc, m`, monthIf("occurred_at", q), s.table("events"), q.Starts[0].Unix(), q.Cutoff.Unix(), micros(q.Watermark),
		s.notRetracted(q.Watermark)))
	if err != nil {
		return fmt.Errorf("checked firms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var m uint8
		if err := rows.Scan(&u, &m); err != nil {
			return fmt.Errorf("checked firms: %w", err)
		}
		if err := fn(model.USCC(u), int(m)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AddPlanningRecord stores a record, stamped with the clock of ingested_us
// (so watermarks bound records as they bound events), and returns it.
func (s *Store) AddPlanningRecord(ctx context.Context, r warehouse.PlanningRecord) (warehouse.PlanningRecord, error) {
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("planning record: %w", err)
	}
	s.writeM.Lock()
	defer s.writeM.Unlock()
	r.RecordedAt = s.stamp()
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), `INSERT INTO `+s.table("planning_records")+` (kind, key, recorded_us, body)`)
	if err != nil {
		return r, fmt.Errorf("store %s record %s: %w", r.Kind, r.Key, err)
	}
	defer batch.Abort()
	if err := batch.Append(string(r.Kind), r.Key, micros(r.RecordedAt), string(r.Body)); err != nil {
		return r, fmt.Errorf("store %s record %s: %w", r.Kind, r.Key, err)
	}
	if err := batch.Send(); err != nil {
		return r, fmt.Errorf("store %s record %s: %w", r.Kind, r.Key, err)
	}
	return r, nil
}

// PlanningRecords lists the records of q, by key, then as recorded; a
// record stored twice (a retried insert) is listed once.
func (s *Store) PlanningRecords(ctx context.Context, q warehouse.RecordQuery) ([]warehouse.PlanningRecord, error) {
	where, args := "kind = ?", []any{string(q.Kind)}
	if q.Key != "" {
		where, args = where+" AND key = ?", append(args, q.Key)
	}
	if !q.Cutoff.IsZero() {
		where += fmt.Sprintf(" AND recorded_us < %d", micros(q.Cutoff))
	}
	if !q.Watermark.IsZero() {
		where += fmt.Sprintf(" AND recorded_us <= %d", micros(q.Watermark))
	}
	rows, err := s.conn.Query(ctx, `SELECT kind, key, recorded_us, body FROM `+s.table("planning_records")+` FINAL WHERE `+where+
		` ORDER BY key, recorded_us`, args...)
	if err != nil {
		return nil, fmt.Errorf("planning records: %w", err)
	}
	defer rows.Close()
	var out []warehouse.PlanningRecord
	for rows.Next() {
		var r warehouse.PlanningRecord
		var kind, body string
		var us uint64
		if err := rows.Scan(&kind, &r.Key, &us, &body); err != nil {
			return nil, fmt.Errorf("planning records: %w", err)
		}
		r.Kind, r.RecordedAt, r.Body = warehouse.RecordKind(kind), fromMicros(us), []byte(body)
		out = append(out, r)
	}
	return out, rows.Err()
}

// StoreDrawSeed keeps a draw's secret seed; a second seed for the same draw
// is refused (ErrSeedExists). The check and the insert are two statements:
// draws are created by one admin at a time, with ids that carry a random part.
func (s *Store) StoreDrawSeed(ctx context.Context, drawID string, seed []byte) error {
	if _, err := s.DrawSeed(ctx, drawID); err == nil {
		return fmt.Errorf("seed of draw %s: %w", drawID, warehouse.ErrSeedExists)
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), `INSERT INTO `+s.table("draw_seeds")+` (draw_id, seed, stored_us)`)
	if err != nil {
		return fmt.Errorf("seed of draw %s: %w", drawID, err)
	}
	defer batch.Abort()
	if err := batch.Append(drawID, string(seed), micros(time.Now())); err != nil {
		return fmt.Errorf("seed of draw %s: %w", drawID, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("seed of draw %s: %w", drawID, err)
	}
	return nil
}

// DrawSeed is a draw's secret seed, or ErrNotFound.
func (s *Store) DrawSeed(ctx context.Context, drawID string) ([]byte, error) {
	rows, err := s.conn.Query(ctx, `SELECT seed FROM `+s.table("draw_seeds")+` FINAL WHERE draw_id = ?`, drawID)
	if err != nil {
		return nil, fmt.Errorf("seed of draw %s: %w", drawID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("seed of draw %s: %w", drawID, err)
		}
		return nil, fmt.Errorf("seed of draw %s: %w", drawID, warehouse.ErrNotFound)
	}
	var seed string
	if err := rows.Scan(&seed); err != nil {
		return nil, fmt.Errorf("seed of draw %s: %w", drawID, err)
	}
	return []byte(seed), nil
}
