package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/qcredit/qcredit/warehouse"
)

// DefaultLeaseSettle is how long a lease claim waits before it is resolved:
// long enough for racing claims of other replicas (whose crons fire within
// milliseconds of each other) to be visible, short beside a job run.
const DefaultLeaseSettle = 2 * time.Second

// Watermark is the greatest ingested_us stored, or recorded_us of a
// planning record if later (zero when there are neither).
func (s *Store) Watermark(ctx context.Context) (time.Time, error) {
	var us uint64
	if err := s.conn.QueryRow(ctx, `SELECT greatest((SELECT max(ingested_us) FROM `+s.table("events")+`),
		(SELECT max(recorded_us) FROM `+s.table("planning_records")+`))`).Scan(&us); err != nil {
		return time.Time{}, fmt.Errorf("watermark: %w", err)
	}
	return fromMicros(us), nil
}

func fromMicros(us uint64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(int64(us))
}

func micros(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixMicro())
}

// CountEvents counts the events of c, each id once.
func (s *Store) CountEvents(ctx context.Context, c warehouse.EventCount) (int64, error) {
	before := int64(1) << 40 // no bound: far past any date
	if !c.OccurredBefore.IsZero() {
		before = c.OccurredBefore.Unix()
	}
	upTo := uint64(1) << 63
	if !c.IngestedUpTo.IsZero() {
		upTo = micros(c.IngestedUpTo)
	}
	var n uint64
	err := s.conn.QueryRow(ctx, fmt.Sprintf(`SELECT uniqExact(id) FROM %s WHERE toInt64(occurred_at) < %d
		AND ingested_us > %d AND ingested_us <= %d`, s.table("events"), before, micros(c.IngestedAfter), upTo)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	return int64(n), nil
}

// BeginRun stores a new run record (record 1) with the job's next version.
// The version is read, then written: callers hold the job's lease, so no
// other run of the job takes the same version meanwhile.
func (s *Store) BeginRun(ctx context.Context, r warehouse.Run) (warehouse.Run, error) {
	if err := r.Validate(); err != nil {
		return r, fmt.Errorf("begin run: %w", err)
	}
	var v uint32
	if err := s.conn.QueryRow(ctx, `SELECT max(version) FROM `+s.table("runs")+` FINAL WHERE job = ?`, r.Job).Scan(&v); err != nil {
		return r, fmt.Errorf("begin run of %s: %w", r.Job, err)
	}
	r.Version = int(v) + 1
	r.ID = warehouse.RunID(r.Job, r.Version)
	if err := s.insertRun(ctx, r, 1); err != nil {
		return r, fmt.Errorf("begin run %s: %w", r.ID, err)
	}
	return r, nil
}

// FinishRun stores the run record again (record 2); job, as_of, watermark
// and start stay as begun. A failed run's outputs are dropped.
func (s *Store) FinishRun(ctx context.Context, r warehouse.Run) error {
	begun, err := s.queryRuns(ctx, "WHERE job = ? AND version = ?", r.Job, r.Version)
	if err != nil {
		return fmt.Errorf("finish run %s: %w", r.ID, err)
	}
	if len(begun) == 0 {
		return fmt.Errorf("finish run %s: %w", r.ID, warehouse.ErrNotFound)
	}
	b := begun[0]
	r.AsOf, r.Watermark, r.Like, r.StartedAt = b.AsOf, b.Watermark, b.Like, b.StartedAt
	if err := s.insertRun(ctx, r, 2); err != nil {
		return fmt.Errorf("finish run %s: %w", r.ID, err)
	}
	if r.Status == warehouse.RunFailed {
		// A failed run's outputs are never read; drop them to save space (a
		// mutation, applied in the background).
		for _, t := range []string{"run_outputs", "run_outputs_by_uscc"} {
			if err := s.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.%s%s DELETE WHERE job = ? AND version = ?",
				s.schema.DB, s.localName(t), s.schema.OnCluster()), r.Job, uint32(r.Version)); err != nil {
				return fmt.Errorf("drop outputs of failed run %s: %w", r.ID, err)
			}
		}
	}
	return nil
}

func (s *Store) insertRun(ctx context.Context, r warehouse.Run, record uint32) error {
	counts, err := warehouse.EncodeCounts(r.Counts)
	if err != nil {
		return err
	}
	asOf, err := time.Parse(time.DateOnly, r.AsOf)
	if err != nil {
		return fmt.Errorf("as_of %q: %w", r.AsOf, err)
	}
	var finishedUS uint64
	if r.FinishedAt != nil {
		finishedUS = micros(*r.FinishedAt)
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), `INSERT INTO `+s.table("runs")+` (job, version, id, as_of, watermark_us,
		like_run, model_version, started_at, started_us, finished_at, finished_us, status, counts, digest, error, record)`)
	if err != nil {
		return err
	}
	defer batch.Abort()
	if err := batch.Append(r.Job, uint32(r.Version), r.ID, asOf, micros(r.Watermark), r.Like, r.ModelVersion,
		r.StartedAt, micros(r.StartedAt), r.FinishedAt, finishedUS, string(r.Status), counts, r.Digest, r.Error, record); err != nil {
		return err
	}
	return batch.Send()
}

// queryRuns reads the latest record of the matching runs, newest start first.
func (s *Store) queryRuns(ctx context.Context, where string, args ...any) ([]warehouse.Run, error) {
	rows, err := s.conn.Query(ctx, `SELECT job, version, id, toString(as_of), watermark_us, like_run, model_version,
		started_us, finished_us, status, counts, digest, error FROM `+s.table("runs")+` FINAL `+where+`
		ORDER BY started_us DESC, version DESC, job`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []warehouse.Run{}
	for rows.Next() {
		var r warehouse.Run
		var version uint32
		var wm, started, finished uint64
		var status, counts string
		if err := rows.Scan(&r.Job, &version, &r.ID, &r.AsOf, &wm, &r.Like, &r.ModelVersion, &started, &finished,
			&status, &counts, &r.Digest, &r.Error); err != nil {
			return nil, err
		}
		r.Version, r.Status = int(version), warehouse.RunStatus(status)
		r.Watermark, r.StartedAt = fromMicros(wm), fromMicros(started)
		if finished != 0 {
			f := fromMicros(finished)
			r.FinishedAt = &f
		}
		if r.Counts, err = warehouse.DecodeCounts(counts); err != nil {
			return nil, fmt.Errorf("run %s: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Runs lists run records, newest start first.
func (s *Store) Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error) {
	runs, err := s.queryRuns(ctx, "WHERE (? = '' OR job = ?) AND (? = '' OR status = ?)",
		f.Job, f.Job, string(f.Status), string(f.Status))
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	if f.Limit > 0 && len(runs) > f.Limit {
		runs = runs[:f.Limit]
	}
	return runs, nil
}

// AcquireLease claims the named lease for holder until now + ttl, waits
// LeaseSettle for racing claims, and reports whether holder holds it
// (warehouse.ResolveLease over every claim). A holder that already holds
// the lease renews it without waiting.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	cur, err := s.leaseHolder(ctx, name)
	if err != nil {
		return false, err
	}
	now := time.Now()
	if cur.Holder != "" && cur.Holder != holder && cur.Until.After(now) {
		return false, nil
	}
	renewal := cur.Holder == holder && cur.Until.After(now)
	if err := s.claim(ctx, warehouse.LeaseClaim{Name: name, Holder: holder, At: now, Until: now.Add(ttl)}); err != nil {
		return false, err
	}
	if !renewal {
		t := time.NewTimer(s.LeaseSettle)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
	}
	cur, err = s.leaseHolder(ctx, name)
	if err != nil {
		return false, err
	}
	return cur.Holder == holder && cur.Until.After(time.Now()), nil
}

// ReleaseLease ends holder's lease (a claim with release set).
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.claim(ctx, warehouse.LeaseClaim{Name: name, Holder: holder, At: time.Now(), Release: true})
}

func (s *Store) claim(ctx context.Context, c warehouse.LeaseClaim) error {
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), `INSERT INTO `+s.table("lease_claims")+` (name, holder, at_us, until_us, release)`)
	if err != nil {
		return fmt.Errorf("lease %s: %w", c.Name, err)
	}
	defer batch.Abort()
	var release uint8
	if c.Release {
		release = 1
	}
	if err := batch.Append(c.Name, c.Holder, micros(c.At), micros(c.Until), release); err != nil {
		return fmt.Errorf("lease %s: %w", c.Name, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("lease %s: %w", c.Name, err)
	}
	return nil
}

func (s *Store) leaseHolder(ctx context.Context, name string) (warehouse.LeaseHolder, error) {
	rows, err := s.conn.Query(ctx, `SELECT holder, at_us, until_us, release FROM `+s.table("lease_claims")+` WHERE name = ?`, name)
	if err != nil {
		return warehouse.LeaseHolder{}, fmt.Errorf("lease %s: %w", name, err)
	}
	defer rows.Close()
	var claims []warehouse.LeaseClaim
	for rows.Next() {
		c := warehouse.LeaseClaim{Name: name}
		var at, until uint64
		var release uint8
		if err := rows.Scan(&c.Holder, &at, &until, &release); err != nil {
			return warehouse.LeaseHolder{}, fmt.Errorf("lease %s: %w", name, err)
		}
		c.At, c.Until, c.Release = fromMicros(at), fromMicros(until), release == 1
		claims = append(claims, c)
	}
	if err := rows.Err(); err != nil {
		return warehouse.LeaseHolder{}, fmt.Errorf("lease %s: %w", name, err)
	}
	return warehouse.ResolveLease(claims), nil
}
