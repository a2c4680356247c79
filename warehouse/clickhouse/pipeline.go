package clickhouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

var _ warehouse.PipelineStore = (*Store)(nil)

// BeginRun stores a new run record (version 1).
func (s *Store) BeginRun(ctx context.Context, r warehouse.Run) error {
	if err := s.insertRun(ctx, r, 1); err != nil {
		return fmt.Errorf("begin run %s: %w", r.ID, err)
	}
	return nil
}

// FinishRun stores the run record again with the next version; job, as_of
// and start stay as begun.
func (s *Store) FinishRun(ctx context.Context, r warehouse.Run) error {
	runs, err := s.queryRuns(ctx, "WHERE id = ?", r.ID)
	if err != nil {
		return fmt.Errorf("finish run %s: %w", r.ID, err)
	}
	if len(runs) == 0 {
		return fmt.Errorf("finish run %s: %w", r.ID, warehouse.ErrNotFound)
	}
	begun := runs[0]
	r.Job, r.AsOf, r.StartedAt = begun.run.Job, begun.run.AsOf, begun.run.StartedAt
	if err := s.insertRun(ctx, r, begun.version+1); err != nil {
		return fmt.Errorf("finish run %s: %w", r.ID, err)
	}
	if r.Status == warehouse.RunFailed {
		// A failed run's partial scores are never read; drop them to save
		// space (a mutation, applied in the background).
		if err := s.conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.%s%s DELETE WHERE run_id = ?",
			s.schema.DB, s.localName("scores"), s.schema.OnCluster()), r.ID); err != nil {
			return fmt.Errorf("drop scores of failed run %s: %w", r.ID, err)
		}
	}
	return nil
}

func (s *Store) insertRun(ctx context.Context, r warehouse.Run, version uint32) error {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return err
	}
	asOf, err := time.Parse(time.DateOnly, r.AsOf)
	if err != nil {
		return fmt.Errorf("as_of %q: %w", r.AsOf, err)
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), fmt.Sprintf(`INSERT INTO %s
		(id, job, as_of, started_at, finished_at, status, counts, model_version, digest, error, version)`, s.table("pipeline_runs")))
	if err != nil {
		return err
	}
	defer batch.Abort()
	if err := batch.Append(r.ID, r.Job, asOf, r.StartedAt, r.FinishedAt, string(r.Status), string(counts),
		r.ModelVersion, r.Digest, r.Error, version); err != nil {
		return err
	}
	return batch.Send()
}

type versionedRun struct {
	run     warehouse.Run
	version uint32
}

// queryRuns reads the latest version of the matching run records, newest
// start first.
func (s *Store) queryRuns(ctx context.Context, where string, args ...any) ([]versionedRun, error) {
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT id, job, toString(as_of), started_at, finished_at, status, counts,
		model_version, digest, error, version FROM %s FINAL %s ORDER BY started_at DESC, id DESC`, s.table("pipeline_runs"), where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []versionedRun
	for rows.Next() {
		var v versionedRun
		var status, counts string
		if err := rows.Scan(&v.run.ID, &v.run.Job, &v.run.AsOf, &v.run.StartedAt, &v.run.FinishedAt, &status, &counts,
			&v.run.ModelVersion, &v.run.Digest, &v.run.Error, &v.version); err != nil {
			return nil, err
		}
		v.run.Status = warehouse.RunStatus(status)
		if err := json.Unmarshal([]byte(counts), &v.run.Counts); err != nil {
			return nil, fmt.Errorf("run %s counts: %w", v.run.ID, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Runs lists run records, newest first.
func (s *Store) Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error) {
	runs, err := s.queryRuns(ctx, "WHERE (? = '' OR job = ?)", f.Job, f.Job)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out := make([]warehouse.Run, 0, len(runs))
	for _, r := range runs {
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
		out = append(out, r.run)
	}
	return out, nil
}

// succeededScoreRuns are the succeeded score runs, the one the rest of the
// system reads first (greatest as_of, then latest finish, then id). Run
// records are few (one per run), so they are ordered here.
func (s *Store) succeededScoreRuns(ctx context.Context) ([]warehouse.Run, error) {
	runs, err := s.queryRuns(ctx, "WHERE job = 'score' AND status = 'succeeded'")
	if err != nil {
		return nil, fmt.Errorf("score runs: %w", err)
	}
	out := make([]warehouse.Run, len(runs))
	for i, r := range runs {
		out[i] = r.run
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.AsOf != b.AsOf {
			return a.AsOf > b.AsOf
		}
		fa, fb := finished(a), finished(b)
		if !fa.Equal(fb) {
			return fa.After(fb)
		}
		return a.ID > b.ID
	})
	return out, nil
}

func finished(r warehouse.Run) time.Time {
	if r.FinishedAt == nil {
		return time.Time{}
	}
	return *r.FinishedAt
}

// WriteScores appends scores in one insert.
func (s *Store) WriteScores(ctx context.Context, scores []warehouse.ScoreRow) error {
	if len(scores) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(s.insertCtx(ctx), fmt.Sprintf(`INSERT INTO %s
		(run_id, uscc, as_of, model_version, score_tenths, grade, reasons)`, s.table("scores")))
	if err != nil {
		return fmt.Errorf("write scores: %w", err)
	}
	defer batch.Abort()
	for _, sr := range scores {
		asOf, err := time.Parse(time.DateOnly, sr.AsOf)
		if err != nil {
			return fmt.Errorf("score of %s: as_of: %w", sr.USCC, err)
		}
		if err := batch.Append(sr.RunID, string(sr.USCC), asOf, sr.ModelVersion, int32(sr.ScoreTenths), sr.Grade, string(sr.Reasons)); err != nil {
			return fmt.Errorf("write score of %s: %w", sr.USCC, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("write scores: %w", err)
	}
	return nil
}

const scoreColumns = `run_id, uscc, toString(as_of), model_version, toInt64(score_tenths), grade, reasons`

// LatestScore is the enterprise's score in the latest succeeded run.
func (s *Store) LatestScore(ctx context.Context, uscc model.USCC) (warehouse.ScoreRow, error) {
	runs, err := s.succeededScoreRuns(ctx)
	if err != nil {
		return warehouse.ScoreRow{}, fmt.Errorf("latest score of %s: %w", uscc, err)
	}
	if len(runs) == 0 {
		return warehouse.ScoreRow{}, warehouse.ErrNotFound
	}
	r, err := warehouse.ScanScoreRow(s.conn.QueryRow(ctx, `SELECT `+scoreColumns+` FROM `+s.table("scores")+
		` WHERE run_id = ? AND uscc = ?`, runs[0].ID, string(uscc)))
	if errors.Is(err, sql.ErrNoRows) {
		return r, warehouse.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("latest score of %s: %w", uscc, err)
	}
	return r, nil
}

// ScoreHistory is the enterprise's scores over succeeded runs, newest first.
func (s *Store) ScoreHistory(ctx context.Context, uscc model.USCC, limit int) ([]warehouse.ScoreRow, error) {
	runs, err := s.succeededScoreRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("score history of %s: %w", uscc, err)
	}
	rows, err := s.conn.Query(ctx, `SELECT `+scoreColumns+` FROM `+s.table("scores")+` WHERE uscc = ?`, string(uscc))
	if err != nil {
		return nil, fmt.Errorf("score history of %s: %w", uscc, err)
	}
	defer rows.Close()
	scores, err := warehouse.ScanScoreRows(rows)
	if err != nil {
		return nil, fmt.Errorf("score history of %s: %w", uscc, err)
	}
	byRun := map[string]warehouse.ScoreRow{}
	for _, r := range scores {
		byRun[r.RunID] = r
	}
	var out []warehouse.ScoreRow
	for _, run := range runs { // already newest first
		if r, ok := byRun[run.ID]; ok && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

// Timeline is the enterprise's events in (occurred_at, id) order.
func (s *Store) Timeline(ctx context.Context, uscc model.USCC, limit int) ([]model.Event, error) {
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT id, type, uscc, source, occurred_at, reported_at, data FROM %s FINAL
		WHERE uscc = ? ORDER BY occurred_at, id LIMIT %d`, s.table("events"), max(limit, 0)), string(uscc))
	if err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", uscc, err)
	}
	defer rows.Close()
	out := []model.Event{}
	for rows.Next() {
		var e model.Event
		var typ, code, data string
		if err := rows.Scan(&e.ID, &typ, &code, &e.Source, &e.OccurredAt, &e.ReportedAt, &data); err != nil {
			return nil, fmt.Errorf("timeline of %s: %w", uscc, err)
		}
		e.Type, e.USCC, e.Data = model.EventType(typ), model.USCC(code), json.RawMessage(data)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ListScores pages through the latest run's scores.
func (s *Store) ListScores(ctx context.Context, f warehouse.ScoreFilter) (warehouse.ScorePage, error) {
	page := warehouse.ScorePage{Items: []warehouse.ScoredEnterprise{}}
	if err := f.Validate(); err != nil {
		return page, err
	}
	runs, err := s.succeededScoreRuns(ctx)
	if err != nil {
		return page, fmt.Errorf("latest score run: %w", err)
	}
	if len(runs) == 0 {
		return page, nil
	}
	page.RunID, page.AsOf = runs[0].ID, runs[0].AsOf
	// The cluster key is the declared cluster, else county + GB/T 4754
	// division (model.Enterprise.ClusterKey); GLOBAL ships the enterprises
	// to every shard of a cluster.
	from := fmt.Sprintf(` FROM (SELECT * FROM %s WHERE run_id = ? AND (? = '' OR grade = ?))
		GLOBAL ANY LEFT JOIN (
			SELECT uscc, name, region, industry,
				if(cluster != '', cluster, concat(region, '-', substring(industry, 1, 3))) AS cluster_key
			FROM %s) USING uscc
		WHERE (? = '' OR region = ?) AND (? = '' OR substring(industry, 1, length(?)) = ?) AND (? = '' OR cluster_key = ?)`,
		s.table("scores"), s.table("enterprises"))
	args := []any{page.RunID, f.Grade, f.Grade, f.Region, f.Region, f.Industry, f.Industry, f.Industry, f.Cluster, f.Cluster}
	var total uint64
	if err := s.conn.QueryRow(ctx, `SELECT count()`+from, args...).Scan(&total); err != nil {
		return page, fmt.Errorf("count scores: %w", err)
	}
	page.Total = int64(total)
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT %s, name, region, industry, cluster_key %s ORDER BY uscc LIMIT %d, %d`,
		scoreColumns, from, f.Offset, f.Limit), args...)
	if err != nil {
		return page, fmt.Errorf("list scores: %w", err)
	}
	defer rows.Close()
	if page.Items, err = warehouse.ScanScoredEnterprises(rows); err != nil {
		return page, fmt.Errorf("list scores: %w", err)
	}
	return page, nil
}
