package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// WriteOutputs appends outputs of a running run with the appender, on a
// connection of its own. Callers write a run's outputs in key order.
func (s *Store) WriteOutputs(ctx context.Context, job string, version int, rows []warehouse.OutputRow) error {
	if len(rows) == 0 {
		return nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write outputs: %w", err)
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "run_outputs")
		if err != nil {
			return fmt.Errorf("outputs appender: %w", err)
		}
		for _, o := range rows {
			if err := a.AppendRow(job, int32(version), o.Key, o.USCC, model.USCC(o.USCC).SortKey(), o.Label, o.Value, string(o.Payload)); err != nil {
				a.Close()
				return fmt.Errorf("append output %s of %s: %w", o.Key, warehouse.RunID(job, version), err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("flush outputs of %s: %w", warehouse.RunID(job, version), err)
		}
		return nil
	})
}

// ReadOutputs streams one run version's outputs in key order.
func (s *Store) ReadOutputs(ctx context.Context, q warehouse.OutputQuery, fn func(warehouse.OutputRow) error) error {
	payload := "''"
	if q.Payload {
		payload = "payload"
	}
	where, args := "job = ? AND version = ?", []any{q.Job, q.Version}
	if q.KeyPrefix != "" {
		from, to := q.KeyRange()
		where, args = where+" AND key >= ?", append(args, from)
		if to != "" {
			where, args = where+" AND key < ?", append(args, to)
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key, uscc, label, value, `+payload+` FROM run_outputs
		WHERE `+where+` ORDER BY key`, args...)
	if err != nil {
		return fmt.Errorf("read outputs of %s: %w", warehouse.RunID(q.Job, q.Version), err)
	}
	defer rows.Close()
	for rows.Next() {
		var o warehouse.OutputRow
		var p string
		if err := rows.Scan(&o.Key, &o.USCC, &o.Label, &o.Value, &p); err != nil {
			return fmt.Errorf("read outputs of %s: %w", warehouse.RunID(q.Job, q.Version), err)
		}
		if p != "" {
			o.Payload = []byte(p)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Output is one output of a run version, or ErrNotFound. DuckDB's zone
// maps keep an 8-byte prefix of a string (for a USCC, about its county), so
// a lookup by key alone scans every key of the version: 10 ms among the
// 1M scores of the bench city, the largest part of a credit file. An
// output keyed by its enterprise's USCC (a score) is looked for first by
// ukey, whose zone maps narrow the scan to one row group.
func (s *Store) Output(ctx context.Context, job string, version int, key string) (warehouse.OutputRow, error) {
	if len(key) == 18 { // the length of a USCC
		o, err := s.output(ctx, `AND ukey = ? AND uscc = key AND key = ?`, job, version, model.USCC(key).SortKey(), key)
		if !errors.Is(err, warehouse.ErrNotFound) {
			return o, err
		}
	}
	return s.output(ctx, `AND key = ?`, job, version, key)
}

func (s *Store) output(ctx context.Context, where string, job string, version int, args ...any) (warehouse.OutputRow, error) {
	key := args[len(args)-1].(string)
	o := warehouse.OutputRow{Key: key}
	var p string
	err := s.db.QueryRowContext(ctx, `SELECT uscc, label, value, payload FROM run_outputs WHERE job = ? AND version = ? `+where,
		append([]any{job, version}, args...)...).Scan(&o.USCC, &o.Label, &o.Value, &p)
	if errors.Is(err, sql.ErrNoRows) {
		return o, warehouse.ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("output %s of %s: %w", key, warehouse.RunID(job, version), err)
	}
	o.Payload = []byte(p)
	return o, nil
}

// OutputHistory is an enterprise's outputs of job over its succeeded runs,
// the current ranking first (warehouse.ByRecency), at most limit, without
// payloads. The ukey condition lets the zone maps skip every row group but
// the firm's in each run.
//
// The run records and the firm's rows are two queries, made at once (about
// 2 ms each on the 30M-event bench city).
func (s *Store) OutputHistory(ctx context.Context, job string, uscc model.USCC, limit int) ([]warehouse.VersionedOutput, error) {
	var runs []warehouse.Run
	var runsErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		runs, runsErr = s.Runs(ctx, warehouse.RunFilter{Job: job, Status: warehouse.RunSucceeded})
	}()
	out, err := s.historyRows(ctx, job, uscc)
	<-read
	if err := errors.Join(runsErr, err); err != nil {
		return nil, err
	}
	return warehouse.History(runs, out, limit), nil
}

// historyRows are the enterprise's outputs of job in every run version.
func (s *Store) historyRows(ctx context.Context, job string, uscc model.USCC) ([]warehouse.VersionedRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, key, label, value FROM run_outputs
		WHERE job = ? AND ukey = ? AND uscc = ?`, job, uscc.SortKey(), string(uscc))
	if err != nil {
		return nil, fmt.Errorf("%s history of %s: %w", job, uscc, err)
	}
	defer rows.Close()
	var out []warehouse.VersionedRow
	for rows.Next() {
		r := warehouse.VersionedRow{OutputRow: warehouse.OutputRow{USCC: string(uscc)}}
		if err := rows.Scan(&r.Version, &r.Key, &r.Label, &r.Value); err != nil {
			return nil, fmt.Errorf("%s history of %s: %w", job, uscc, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s history of %s: %w", job, uscc, err)
	}
	return out, nil
}
