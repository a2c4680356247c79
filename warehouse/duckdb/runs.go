package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/warehouse"
)

// Watermark is the greatest ingested_at stored, or recorded_at of a
// planning record if later (zero when there are neither): what a run
// started now can know.
func (s *Store) Watermark(ctx context.Context) (time.Time, error) {
	var t sql.NullTime
	if err := s.db.QueryRowContext(ctx, `SELECT max(t) FROM (SELECT max(ingested_at) AS t FROM events
		UNION ALL SELECT max(recorded_at) FROM planning_records)`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("watermark: %w", err)
	}
	return t.Time, nil
}

// CountEvents counts the events of c.
func (s *Store) CountEvents(ctx context.Context, c warehouse.EventCount) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events
		WHERE (?::TIMESTAMPTZ IS NULL OR occurred_at < ?) AND (?::TIMESTAMPTZ IS NULL OR ingested_at > ?)
		  AND (?::TIMESTAMPTZ IS NULL OR ingested_at <= ?)`,
		optZero(c.OccurredBefore), optZero(c.OccurredBefore), optZero(c.IngestedAfter), optZero(c.IngestedAfter),
		optZero(c.IngestedUpTo), optZero(c.IngestedUpTo)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return n, nil
}

func optZero(t time.Time) driver.Value {
	if t.IsZero() {
		return nil
	}
	return t
}

// BeginRun stores a new run record with the job's next version and returns it.
func (s *Store) BeginRun(ctx context.Context, r warehouse.Run) (warehouse.Run, error) {
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("begin run: %w", err)
	}
	counts, err := warehouse.EncodeCounts(r.Counts)
	if err != nil {
		return r, fmt.Errorf("begin run: %w", err)
	}
	// One statement, so the version is taken atomically; (job, version) is
	// the primary key, so a racing second insert fails rather than reuses it.
	err = s.db.QueryRowContext(ctx, `INSERT INTO runs
		SELECT ?, v, ? || '-' || v, CAST(? AS DATE), ?, ?, ?, ?, NULL, ?, ?, ?, ?
		FROM (SELECT coalesce(max(version), 0) + 1 AS v FROM runs WHERE job = ?)
		RETURNING version`,
		r.Job, r.Job, r.AsOf, r.Watermark, r.Like, r.ModelVersion, r.StartedAt, string(r.Status), counts, r.Digest, r.Error, r.Job).
		Scan(&r.Version)
	if err != nil {
		return r, fmt.Errorf("begin run of %s: %w", r.Job, err)
	}
	r.ID = warehouse.RunID(r.Job, r.Version)
	return r, nil
}

// FinishRun updates a run record; a failed run's outputs are dropped.
func (s *Store) FinishRun(ctx context.Context, r warehouse.Run) error {
	counts, err := warehouse.EncodeCounts(r.Counts)
	if err != nil {
		return fmt.Errorf("finish run: %w", err)
	}
	var finished driver.Value
	if r.FinishedAt != nil {
		finished = *r.FinishedAt
	}
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET finished_at = ?, status = ?, counts = ?, model_version = ?, digest = ?, error = ?
		WHERE job = ? AND version = ?`, finished, string(r.Status), counts, r.ModelVersion, r.Digest, r.Error, r.Job, r.Version)
	if err != nil {
		return fmt.Errorf("finish run %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("finish run %s: %w", r.ID, warehouse.ErrNotFound)
	}
	if r.Status == warehouse.RunFailed {
		// A failed run's outputs are never read; drop them to save space.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM run_outputs WHERE job = ? AND version = ?`, r.Job, r.Version); err != nil {
			return fmt.Errorf("drop outputs of failed run %s: %w", r.ID, err)
		}
	}
	return nil
}

const runColumns = `job, version, id, strftime(as_of, '%Y-%m-%d'), watermark, like_run, model_version, started_at, finished_at,
	status, counts, digest, error`

// Runs lists run records, newest start first.
func (s *Store) Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs WHERE (? = '' OR job = ?) AND (? = '' OR status = ?)
		ORDER BY started_at DESC, version DESC, job`
	args := []any{f.Job, f.Job, string(f.Status), string(f.Status)}
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	out := []warehouse.Run{}
	for rows.Next() {
		var r warehouse.Run
		var finished sql.NullTime
		var status, counts string
		if err := rows.Scan(&r.Job, &r.Version, &r.ID, &r.AsOf, &r.Watermark, &r.Like, &r.ModelVersion, &r.StartedAt, &finished,
			&status, &counts, &r.Digest, &r.Error); err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		r.Status = warehouse.RunStatus(status)
		if finished.Valid {
			r.FinishedAt = &finished.Time
		}
		if r.Counts, err = warehouse.DecodeCounts(counts); err != nil {
			return nil, fmt.Errorf("run %s: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AcquireLease grants holder the named lease until now + ttl when it is
// free or already holder's (a renewal), in one transaction.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := time.Now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	defer tx.Rollback()
	var cur string
	var until time.Time
	err = tx.QueryRowContext(ctx, `SELECT holder, expires_at FROM leases WHERE name = ?`, name).Scan(&cur, &until)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, fmt.Errorf("lease %s: %w", name, err)
	case cur != holder && until.After(now):
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO leases VALUES (?, ?, ?)`, name, holder, now.Add(ttl)); err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return true, nil
}

// ReleaseLease ends holder's lease; another holder's is left alone.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?`, time.Now(), name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}
