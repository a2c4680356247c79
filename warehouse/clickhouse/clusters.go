package clickhouse

import (
	"context"
	"fmt"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// clusterEnterprisesSQL folds the enterprise.* events before the cutoff
// into each enterprise's state then, as the enterprises view does for now
// (argMax and countIf give the same answer whether a row is stored once or
// twice, so no FINAL). Times are Unix seconds and microseconds, formatted in.
func (s *Store) clusterEnterprisesSQL(q warehouse.ClusterQuery) string {
	field := func(name string) string {
		return fmt.Sprintf("argMaxIf(visitParamExtractString(data, '%[1]s'), (occurred_at, id), visitParamHas(data, '%[1]s') AND type != 'enterprise.deregistered') AS %[1]s", name)
	}
	return fmt.Sprintf(`SELECT uscc, name, region, industry, cluster FROM (
    SELECT uscc, %s, %s, %s, %s,
        countIf(type = 'enterprise.registered') AS registrations,
        argMaxIf(type = 'enterprise.deregistered', (occurred_at, id), type != 'enterprise.updated') AS deregistered
    FROM %s
    WHERE type IN ('enterprise.registered', 'enterprise.updated', 'enterprise.deregistered')
      AND occurred_at < toDateTime(%d) AND ingested_us <= %d AND %s
    GROUP BY uscc
) WHERE registrations > 0 AND deregistered = 0
ORDER BY uscc`, field("name"), field("region"), field("industry"), field("cluster"),
		s.table("events_by_uscc"), q.Cutoff.Unix(), micros(q.Watermark), s.notRetracted(q.Watermark))
}

// ClusterEnterprises streams the enterprises registered before the cutoff
// and not deregistered then, in USCC order.
func (s *Store) ClusterEnterprises(ctx context.Context, q warehouse.ClusterQuery, fn func(warehouse.ClusterEnterprise) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("cluster query: %w", err)
	}
	rows, err := s.conn.Query(ctx, s.clusterEnterprisesSQL(q))
	if err != nil {
		return fmt.Errorf("cluster enterprises: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e warehouse.ClusterEnterprise
		var uscc string
		if err := rows.Scan(&uscc, &e.Name, &e.Region, &e.Industry, &e.Cluster); err != nil {
			return fmt.Errorf("cluster enterprises: %w", err)
		}
		e.USCC = model.USCC(uscc)
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cluster enterprises: %w", err)
	}
	return nil
}

// clusterRecordsSQL reads the window's records in one pass over events
// (18.16 has no CTEs), each record's kind computed per row (see
// warehouse.ClusterRecordKind). Revocations and corrections count whenever
// they happened before the cutoff; GLOBAL IN ships their sets to every
// shard of a cluster.
func (s *Store) clusterRecordsSQL(q warehouse.ClusterQuery) string {
	cutoff, wm := q.Cutoff.Unix(), micros(q.Watermark)
	refs := func(typ string) string {
		return fmt.Sprintf("(SELECT concat(uscc, '|', ref) FROM %s WHERE type = '%s' AND occurred_at < toDateTime(%d) AND ingested_us <= %d AND %s)",
			s.table("events"), typ, cutoff, wm, s.notRetracted(q.Watermark))
	}
	return fmt.Sprintf(`SELECT
    multiIf(type = 'spot_check.completed', 'check', type = 'penalty.decided', 'penalty', type = 'complaint.closed', 'complaint',
        type = 'equipment.hazard_found', 'hazard', 'accident') AS kind,
    id, uscc, occurred_at, toUInt8(type = 'spot_check.completed' AND result = 'fail'),
    if(type = 'spot_check.completed', category, ''), if(type = 'equipment.accident', severity, '')
FROM %[1]s FINAL
WHERE occurred_at >= toDateTime(%[2]d) AND occurred_at < toDateTime(%[3]d) AND ingested_us <= %[4]d
  AND type IN ('spot_check.completed', 'penalty.decided', 'complaint.closed', 'equipment.hazard_found', 'equipment.accident')
  AND NOT (type = 'complaint.closed' AND result != 'verified')
  AND NOT (type = 'penalty.decided' AND concat(uscc, '|', ref) GLOBAL IN %[5]s)
  AND NOT (type = 'equipment.hazard_found' AND NOT (ifNull(due < toDate(?), 0) AND concat(uscc, '|', ref) GLOBAL NOT IN %[6]s))
  AND %[7]s`,
		s.table("events"), q.Start.Unix(), cutoff, wm, refs("penalty.revoked"), refs("equipment.hazard_corrected"), s.notRetracted(q.Watermark))
}

// ClusterRecords streams the records of the window, in no particular order.
func (s *Store) ClusterRecords(ctx context.Context, q warehouse.ClusterQuery, fn func(warehouse.ClusterRecord) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("cluster query: %w", err)
	}
	rows, err := s.conn.Query(ctx, s.clusterRecordsSQL(q), q.AsOf)
	if err != nil {
		return fmt.Errorf("cluster records: %w", err)
	}
	defer rows.Close()
	kinds := map[string]warehouse.ClusterRecordKind{}
	for rows.Next() {
		var r warehouse.ClusterRecord
		var kind, uscc string
		var failed uint8
		if err := rows.Scan(&kind, &r.EventID, &uscc, &r.OccurredAt, &failed, &r.Product, &r.Grade); err != nil {
			return fmt.Errorf("cluster records: %w", err)
		}
		k, ok := kinds[kind]
		if !ok {
			k = warehouse.ClusterRecordKind(kind)
			kinds[kind] = k
		}
		r.Kind, r.USCC, r.Failed = k, model.USCC(uscc), failed == 1
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cluster records: %w", err)
	}
	return nil
}

// KeyHistory is the output with key of each succeeded run of job, with its
// payload, the current ranking first (warehouse.ByRecency), at most limit.
// A key stored twice in a run (a retried write, not yet merged) counts once
// (DISTINCT).
func (s *Store) KeyHistory(ctx context.Context, job, key string, limit int) ([]warehouse.VersionedOutput, error) {
	runs, err := s.Runs(ctx, warehouse.RunFilter{Job: job, Status: warehouse.RunSucceeded})
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT version, uscc, label, value, payload FROM `+s.table("run_outputs")+`
		WHERE job = ? AND key = ?`, job, key)
	if err != nil {
		return nil, fmt.Errorf("history of %s output %s: %w", job, key, err)
	}
	defer rows.Close()
	var out []warehouse.VersionedRow
	for rows.Next() {
		o := warehouse.VersionedRow{OutputRow: warehouse.OutputRow{Key: key}}
		var v uint32
		var p string
		if err := rows.Scan(&v, &o.USCC, &o.Label, &o.Value, &p); err != nil {
			return nil, fmt.Errorf("history of %s output %s: %w", job, key, err)
		}
		o.Version, o.Payload = int(v), []byte(p)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s output %s: %w", job, key, err)
	}
	return warehouse.History(runs, out, limit), nil
}
