package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// featureSQL groups the window's events into feature rows in one pass over
// events (18.16 has no CTEs, so each event's kind, sub, category and flag
// are computed per row rather than by a UNION of per-type selects); the
// registrations follow as their own rows. See the model.Feature* constants.
// Revocations, repairs, corrections and withdrawals count whenever they
// happened before the cutoff. Times are Unix seconds, formatted in.
// GLOBAL IN ships the subqueries to every shard of a cluster; materialize()
// because 18.16 refuses a UNION ALL of constants with columns.
func (s *Store) featureSQL(q warehouse.FeatureQuery) string {
	cutoff, wm := q.Cutoff.Unix(), q.Watermark.UnixMicro()
	var w, counts strings.Builder
	for i, b := range q.Bounds {
		fmt.Fprintf(&w, "occurred_at >= toDateTime(%d), %d, ", b.Unix(), i)
		fmt.Fprintf(&counts, ", countIf(w = %d)", i)
	}
	refs := func(typ string) string {
		return fmt.Sprintf("(SELECT concat(uscc, '|', ref) FROM %s WHERE type = '%s' AND occurred_at < toDateTime(%d) AND ingested_us <= %d AND %s)",
			s.table("events"), typ, cutoff, wm, s.notRetracted(q.Watermark))
	}
	return fmt.Sprintf(`SELECT uscc, kind, sub, fcategory, flag%[1]s, if(sub = 'pass', [max(id)], arraySort(groupArray(id)))
FROM (
    SELECT uscc, id, toUInt8(multiIf(%[2]s%[3]d)) AS w,
        multiIf(type = 'spot_check.completed', 'spot_check', type = 'equipment.inspected', 'inspection',
            type = 'penalty.decided', 'penalty', type = 'licence.revoked', 'licence_revoked',
            type = 'equipment.hazard_found', 'hazard', type = 'equipment.accident', 'accident',
            type = 'complaint.closed', 'complaint', type = 'certification.granted', 'certification',
            type = 'standard.declared', 'standard', 'award') AS kind,
        multiIf(kind = 'spot_check', if(result = 'pass', 'pass', severity), kind = 'inspection', result,
            kind IN ('penalty', 'hazard', 'accident'), severity, '') AS sub,
        if(kind IN ('penalty', 'licence_revoked'), category, '') AS fcategory,
        multiIf(kind = 'spot_check' AND result = 'fail' AND link != '', 'retest',
            kind = 'penalty' AND concat(uscc, '|', ref) GLOBAL IN %[4]s, 'repaired',
            kind = 'hazard' AND ifNull(due < toDate(?), 0) AND concat(uscc, '|', ref) GLOBAL NOT IN %[5]s, 'overdue', '') AS flag
    FROM %[6]s FINAL
    WHERE occurred_at < toDateTime(%[7]d) AND occurred_at >= toDateTime(%[8]d) AND ingested_us <= %[11]d AND %[12]s
      AND type IN ('spot_check.completed', 'equipment.inspected', 'penalty.decided', 'licence.revoked',
                   'equipment.hazard_found', 'equipment.accident', 'complaint.closed', 'certification.granted',
                   'standard.declared', 'award.granted')
      AND NOT (type = 'complaint.closed' AND result != 'verified')
      AND NOT (type = 'penalty.decided' AND concat(uscc, '|', ref) GLOBAL IN %[9]s)
      AND NOT (type = 'certification.granted' AND concat(uscc, '|', ref) GLOBAL IN %[10]s)
    UNION ALL
    SELECT DISTINCT uscc, materialize('') AS id, materialize(toUInt8(0)) AS w, materialize('registered') AS kind,
        materialize('') AS sub, materialize('') AS fcategory, materialize('') AS flag
    FROM %[6]s WHERE type = 'enterprise.registered' AND occurred_at < toDateTime(%[7]d) AND ingested_us <= %[11]d AND %[12]s
)
GROUP BY uscc, kind, sub, fcategory, flag
ORDER BY uscc`,
		counts.String(), w.String(), len(q.Bounds)-1, refs("credit.repaired"), refs("equipment.hazard_corrected"),
		s.table("events"), cutoff, q.Bounds[len(q.Bounds)-1].Unix(), refs("penalty.revoked"), refs("certification.withdrawn"), wm,
		s.notRetracted(q.Watermark))
}

// notRetracted is the condition that leaves out events retracted
// (event.retracted) under the watermark; every job's feature query applies
// it to each read of events. Only valid retractions are stored
// (warehouse.CheckRetractions), so it needs no check of its own.
func (s *Store) notRetracted(wm time.Time) string {
	return fmt.Sprintf("id GLOBAL NOT IN (SELECT link FROM %s WHERE type = 'event.retracted' AND ingested_us <= %d)",
		s.table("events"), wm.UnixMicro())
}

// ScoreFeatures streams the score features of q's window per registered
// enterprise, in USCC order, with its rows sorted (warehouse.FeatureFolder).
func (s *Store) ScoreFeatures(ctx context.Context, q warehouse.FeatureQuery, fn func(warehouse.EnterpriseFeatures) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("feature query: %w", err)
	}
	rows, err := s.conn.Query(ctx, s.featureSQL(q), q.AsOf)
	if err != nil {
		return fmt.Errorf("score features: %w", err)
	}
	defer rows.Close()
	n := len(q.Bounds)
	fold := warehouse.NewFeatureFolder(fn)
	var (
		uscc   string
		counts = make([]uint64, n)
		dest   = make([]any, 0, 6+n)
	)
	for rows.Next() {
		r := warehouse.FeatureRow{Counts: make([]int64, n)}
		dest = append(dest[:0], &uscc, &r.Kind, &r.Sub, &r.Category, &r.Flag)
		for i := range counts {
			dest = append(dest, &counts[i])
		}
		dest = append(dest, &r.IDs)
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("score features: %w", err)
		}
		for i, c := range counts {
			r.Counts[i] = int64(c)
		}
		if err := fold.Add(model.USCC(uscc), r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("score features: %w", err)
	}
	return fold.Close()
}
