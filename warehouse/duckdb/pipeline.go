package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

var _ warehouse.PipelineStore = (*Store)(nil)

// featureSQL aggregates the score features. Each kind reads events
// directly with its own type filter (DuckDB pushes equality filters into the
// scan; one IN list over all kinds cost more than the aggregation). Passed
// checks and inspections, most of all events, are counted apart without an
// id list: grade A evidence cites one of them (the greatest id). See the
// warehouse.Kind* constants for what each row means. Revocations, repairs,
// corrections and withdrawals count whenever they happened before the
// cutoff, even before the look-back.
func featureSQL(windows int) string {
	var w, counts, zeros strings.Builder
	w.WriteString("CASE")
	for i := range windows {
		fmt.Fprintf(&w, " WHEN occurred_at >= $b%d THEN %d", i, i)
		fmt.Fprintf(&counts, ", count(*) FILTER (WHERE w = %d)", i)
		zeros.WriteString(", 0")
	}
	w.WriteString(" END")
	inWindow := fmt.Sprintf("occurred_at < $cutoff AND occurred_at >= $b%d", windows-1)
	branch := func(kind, sub, category, flag, where string) string {
		return fmt.Sprintf("SELECT uscc, '%s' AS kind, %s AS sub, %s AS category, %s AS flag, %s AS w, id FROM events WHERE %s AND %s",
			kind, sub, category, flag, w.String(), inWindow, where)
	}
	keyed := func(set, typ string) string {
		return set + " AS (SELECT uscc || '|' || ref AS k FROM events WHERE type = '" + typ + "' AND occurred_at < $cutoff)"
	}
	branches := []string{
		branch("spot_check", "severity", "''", "CASE WHEN link <> '' THEN 'retest' ELSE '' END", "type = 'spot_check.completed' AND result = 'fail'"),
		branch("inspection", "result", "''", "''", "type = 'equipment.inspected' AND result = 'fail'"),
		branch("penalty", "severity", "category", "CASE WHEN uscc || '|' || ref IN (SELECT k FROM repaired) THEN 'repaired' ELSE '' END",
			"type = 'penalty.decided' AND uscc || '|' || ref NOT IN (SELECT k FROM revoked)"),
		branch("licence_revoked", "''", "category", "''", "type = 'licence.revoked'"),
		branch("hazard", "severity", "''", "CASE WHEN due < CAST($asof AS DATE) AND uscc || '|' || ref NOT IN (SELECT k FROM corrected) THEN 'overdue' ELSE '' END",
			"type = 'equipment.hazard_found'"),
		branch("accident", "severity", "''", "''", "type = 'equipment.accident'"),
		branch("complaint", "''", "''", "''", "type = 'complaint.closed' AND result = 'verified'"),
		branch("certification", "''", "''", "''", "type = 'certification.granted' AND uscc || '|' || ref NOT IN (SELECT k FROM withdrawn)"),
		branch("standard", "''", "''", "''", "type = 'standard.declared'"),
		branch("award", "''", "''", "''", "type = 'award.granted'"),
	}
	return `WITH ` + keyed("revoked", "penalty.revoked") + `,
` + keyed("repaired", "credit.repaired") + `,
` + keyed("corrected", "equipment.hazard_corrected") + `,
` + keyed("withdrawn", "certification.withdrawn") + `,
g AS (
    ` + strings.Join(branches, "\n    UNION ALL ") + `
),
passed AS (
    SELECT uscc, CASE WHEN type = 'spot_check.completed' THEN 'spot_check' ELSE 'inspection' END AS kind, ` + w.String() + ` AS w, id
    FROM events WHERE ` + inWindow + ` AND (type = 'spot_check.completed' OR type = 'equipment.inspected') AND result = 'pass'
)
SELECT * FROM (
    SELECT uscc, kind, sub, category, flag` + counts.String() + `, list(id) AS ids FROM g GROUP BY uscc, kind, sub, category, flag
    UNION ALL
    SELECT uscc, kind, 'pass', '', ''` + counts.String() + `, [max(id)] FROM passed GROUP BY uscc, kind
    UNION ALL
    SELECT DISTINCT uscc, 'registered', '', '', ''` + zeros.String() + `, CAST([] AS VARCHAR[]) FROM events
    WHERE type = 'enterprise.registered' AND occurred_at < $cutoff
) ORDER BY uscc`
}

// ScoreFeatures streams the score features; see warehouse.PipelineStore.
func (s *Store) ScoreFeatures(ctx context.Context, q warehouse.FeatureQuery, fn func(warehouse.EnterpriseFeatures) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("feature query: %w", err)
	}
	args := []any{sql.Named("cutoff", q.Cutoff), sql.Named("asof", q.AsOf)}
	for i, b := range q.Bounds {
		args = append(args, sql.Named(fmt.Sprintf("b%d", i), b))
	}
	// The query orders by USCC only: sorting its millions of rows by all five
	// keys costs more than the folder sorting each firm's few rows.
	fold := warehouse.NewFeatureFolder(fn)
	add := func(uscc string, r warehouse.FeatureRow) error {
		// Sorted here, not by list(id ORDER BY id): DuckDB's ordered
		// aggregate costs more than the whole rest of the query.
		slices.Sort(r.IDs)
		return fold.Add(model.USCC(uscc), r)
	}
	if err := s.featureRows(ctx, featureSQL(len(q.Bounds)), args, len(q.Bounds), add); err != nil {
		return fmt.Errorf("score features: %w", err)
	}
	return fold.Close()
}

// BeginRun stores a new run record.
func (s *Store) BeginRun(ctx context.Context, r warehouse.Run) error {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return fmt.Errorf("begin run: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO pipeline_runs (id, job, as_of, started_at, finished_at, status, counts, model_version, digest, error)
		VALUES (?, ?, CAST(? AS DATE), ?, NULL, ?, ?, ?, ?, ?)`,
		r.ID, r.Job, r.AsOf, r.StartedAt, string(r.Status), string(counts), r.ModelVersion, r.Digest, r.Error)
	if err != nil {
		return fmt.Errorf("begin run %s: %w", r.ID, err)
	}
	return nil
}

// FinishRun updates a run record.
func (s *Store) FinishRun(ctx context.Context, r warehouse.Run) error {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return fmt.Errorf("finish run: %w", err)
	}
	var finished driver.Value
	if r.FinishedAt != nil {
		finished = *r.FinishedAt
	}
	res, err := s.db.ExecContext(ctx, `UPDATE pipeline_runs SET finished_at = ?, status = ?, counts = ?, model_version = ?, digest = ?, error = ?
		WHERE id = ?`, finished, string(r.Status), string(counts), r.ModelVersion, r.Digest, r.Error, r.ID)
	if err != nil {
		return fmt.Errorf("finish run %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("finish run %s: %w", r.ID, warehouse.ErrNotFound)
	}
	if r.Status == warehouse.RunFailed {
		// A failed run's partial scores are never read; drop them to save space.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM scores WHERE run_id = ?`, r.ID); err != nil {
			return fmt.Errorf("drop scores of failed run %s: %w", r.ID, err)
		}
	}
	return nil
}

const runColumns = `id, job, strftime(as_of, '%Y-%m-%d'), started_at, finished_at, status, counts, model_version, digest, error`

// Runs lists run records, newest first.
func (s *Store) Runs(ctx context.Context, f warehouse.RunFilter) ([]warehouse.Run, error) {
	q := `SELECT ` + runColumns + ` FROM pipeline_runs WHERE (? = '' OR job = ?) ORDER BY started_at DESC, id DESC`
	args := []any{f.Job, f.Job}
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []warehouse.Run
	for rows.Next() {
		var r warehouse.Run
		var finished sql.NullTime
		var status, counts string
		if err := rows.Scan(&r.ID, &r.Job, &r.AsOf, &r.StartedAt, &finished, &status, &counts, &r.ModelVersion, &r.Digest, &r.Error); err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		r.Status = warehouse.RunStatus(status)
		if finished.Valid {
			r.FinishedAt = &finished.Time
		}
		if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
			return nil, fmt.Errorf("run %s counts: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WriteScores appends scores with the appender on a connection of its own.
func (s *Store) WriteScores(ctx context.Context, scores []warehouse.ScoreRow) error {
	if len(scores) == 0 {
		return nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write scores: %w", err)
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "scores")
		if err != nil {
			return fmt.Errorf("scores appender: %w", err)
		}
		for _, sr := range scores {
			asOf, err := time.Parse(time.DateOnly, sr.AsOf)
			if err != nil {
				a.Close()
				return fmt.Errorf("score of %s: as_of: %w", sr.USCC, err)
			}
			if err := a.AppendRow(sr.RunID, string(sr.USCC), asOf, sr.ModelVersion, int32(sr.ScoreTenths), sr.Grade, string(sr.Reasons)); err != nil {
				a.Close()
				return fmt.Errorf("append score of %s: %w", sr.USCC, err)
			}
		}
		if err := a.Close(); err != nil {
			return fmt.Errorf("flush scores: %w", err)
		}
		return nil
	})
}

// latestRun is the run whose scores the rest of the system reads.
const latestRun = `(SELECT id FROM pipeline_runs WHERE job = 'score' AND status = 'succeeded'
	ORDER BY as_of DESC, finished_at DESC, id DESC LIMIT 1)`

const scoreColumns = `s.run_id, s.uscc, strftime(s.as_of, '%Y-%m-%d'), s.model_version, s.score_tenths, s.grade, s.reasons`

// LatestScore is the enterprise's score in the latest succeeded run.
func (s *Store) LatestScore(ctx context.Context, uscc model.USCC) (warehouse.ScoreRow, error) {
	r, err := warehouse.ScanScoreRow(s.db.QueryRowContext(ctx, `SELECT `+scoreColumns+` FROM scores s
		WHERE s.run_id = `+latestRun+` AND s.uscc = ?`, string(uscc)))
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+scoreColumns+` FROM scores s JOIN pipeline_runs r ON r.id = s.run_id
		WHERE s.uscc = ? AND r.status = 'succeeded' ORDER BY s.as_of DESC, r.finished_at DESC, s.run_id DESC LIMIT ?`, string(uscc), limit)
	if err != nil {
		return nil, fmt.Errorf("score history of %s: %w", uscc, err)
	}
	defer rows.Close()
	out, err := warehouse.ScanScoreRows(rows)
	if err != nil {
		return nil, fmt.Errorf("score history of %s: %w", uscc, err)
	}
	return out, nil
}

// ListScores pages through the latest run's scores.
func (s *Store) ListScores(ctx context.Context, f warehouse.ScoreFilter) (warehouse.ScorePage, error) {
	page := warehouse.ScorePage{Items: []warehouse.ScoredEnterprise{}}
	if err := f.Validate(); err != nil {
		return page, err
	}
	err := s.db.QueryRowContext(ctx, `SELECT id, strftime(as_of, '%Y-%m-%d') FROM pipeline_runs WHERE id = `+latestRun).Scan(&page.RunID, &page.AsOf)
	if errors.Is(err, sql.ErrNoRows) {
		return page, nil
	}
	if err != nil {
		return page, fmt.Errorf("latest score run: %w", err)
	}
	// The cluster key is the declared cluster, else county + GB/T 4754 division (model.Enterprise.ClusterKey).
	from := ` FROM scores s LEFT JOIN (
		SELECT uscc, coalesce(name, '') AS name, coalesce(region, '') AS region, coalesce(industry, '') AS industry,
			coalesce(nullif(cluster, ''), coalesce(region, '') || '-' || substr(coalesce(industry, ''), 1, 3)) AS cluster
		FROM enterprises) e ON e.uscc = s.uscc
		WHERE s.run_id = ? AND (? = '' OR s.grade = ?) AND (? = '' OR e.region = ?)
		  AND (? = '' OR starts_with(e.industry, ?)) AND (? = '' OR e.cluster = ?)`
	args := []any{page.RunID, f.Grade, f.Grade, f.Region, f.Region, f.Industry, f.Industry, f.Cluster, f.Cluster}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*)`+from, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count scores: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+scoreColumns+`, coalesce(e.name, ''), coalesce(e.region, ''), coalesce(e.industry, ''), coalesce(e.cluster, '')`+
		from+` ORDER BY s.uscc LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return page, fmt.Errorf("list scores: %w", err)
	}
	defer rows.Close()
	if page.Items, err = warehouse.ScanScoredEnterprises(rows); err != nil {
		return page, fmt.Errorf("list scores: %w", err)
	}
	return page, nil
}

// Timeline is the enterprise's events in occurred_at order.
func (s *Store) Timeline(ctx context.Context, uscc model.USCC, limit int) ([]model.Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, type, uscc, source, occurred_at, reported_at, data FROM events
		WHERE uscc = ? ORDER BY occurred_at, id LIMIT ?`, string(uscc), limit)
	if err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", uscc, err)
	}
	defer rows.Close()
	out := []model.Event{}
	for rows.Next() {
		var e model.Event
		var typ, code, data string
		var reported sql.NullTime
		if err := rows.Scan(&e.ID, &typ, &code, &e.Source, &e.OccurredAt, &reported, &data); err != nil {
			return nil, fmt.Errorf("timeline of %s: %w", uscc, err)
		}
		e.Type, e.USCC, e.Data = model.EventType(typ), model.USCC(code), json.RawMessage(data)
		if reported.Valid {
			e.ReportedAt = &reported.Time
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
