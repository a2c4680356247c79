package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// featureSQL aggregates the score features. Each kind reads events
// directly with its own type filter (DuckDB pushes equality filters into the
// scan; one IN list over all kinds cost more than the aggregation). Passed
// checks and inspections, most of all events, are counted apart without an
// id list: grade A evidence cites one of them (the greatest id). See the
// model.Feature* constants for what each row means. Revocations, repairs,
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
	inWindow := fmt.Sprintf("occurred_at < $cutoff AND occurred_at >= $b%d AND ingested_at <= $wm AND %s", windows-1, notRetracted)
	branch := func(kind, sub, category, flag, where string) string {
		return fmt.Sprintf("SELECT uscc, '%s' AS kind, %s AS sub, %s AS category, %s AS flag, %s AS w, id FROM events WHERE %s AND %s",
			kind, sub, category, flag, w.String(), inWindow, where)
	}
	keyed := func(set, typ string) string {
		return set + " AS (SELECT uscc || '|' || ref AS k FROM events WHERE type = '" + typ + "' AND occurred_at < $cutoff AND ingested_at <= $wm AND " + notRetracted + ")"
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
	return `WITH ` + retractedCTE + `,
` + keyed("revoked", "penalty.revoked") + `,
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
    WHERE type = 'enterprise.registered' AND occurred_at < $cutoff AND ingested_at <= $wm AND ` + notRetracted + `
) ORDER BY uscc`
}

// retractedCTE are the ids of events retracted (event.retracted) under the
// watermark $wm; a run reads no event whose id is in it (notRetracted). Only
// valid retractions are stored (warehouse.CheckRetractions), so their set
// needs no check here. Every job's feature query starts with it.
const (
	retractedCTE = `retracted AS (SELECT link AS id FROM events WHERE type = 'event.retracted' AND ingested_at <= $wm)`
	notRetracted = `id NOT IN (SELECT id FROM retracted)`
)

// ScoreFeatures streams the score features of q's window per registered
// enterprise, in USCC order, with its rows sorted (warehouse.FeatureFolder).
func (s *Store) ScoreFeatures(ctx context.Context, q warehouse.FeatureQuery, fn func(warehouse.EnterpriseFeatures) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("feature query: %w", err)
	}
	args := []any{sql.Named("cutoff", q.Cutoff), sql.Named("asof", q.AsOf), sql.Named("wm", q.Watermark)}
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
