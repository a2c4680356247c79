package clickhouse

import (
	"context"
	"fmt"

	"github.com/qcredit/qcredit/warehouse"
)

// deadLetterCounty is a dead letter's county: its source when that is a
// Huai'an bureau's code, else "" (the same rule as DuckDB's).
const deadLetterCounty = `if(match(toString(source), '^3208[0-9][0-9]$'), toString(source), '')`

// Activity streams each county's months of q's window, ordered by county
// and month (retracted events and the retractions left out): events reported, spot checks and failures, reporting delay
// (reported_at − occurred_at, where the event says when it was reported),
// dead letters. Times are formatted in as Unix seconds; months are the
// columns' zone's (Asia/Shanghai).
func (s *Store) Activity(ctx context.Context, q warehouse.ActivityQuery, fn func(warehouse.ActivityRow) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("activity query: %w", err)
	}
	from, cutoff, wm := q.From.Unix(), q.Cutoff.Unix(), micros(q.Watermark)
	query := fmt.Sprintf(`SELECT county, month, sum(events), sum(checks), sum(fails), sum(reported), sum(delay), sum(dead) FROM (
    SELECT toString(source) AS county, toUInt32(toYYYYMM(occurred_at)) AS month, count() AS events,
        countIf(type = 'spot_check.completed') AS checks,
        countIf(type = 'spot_check.completed' AND result = 'fail') AS fails,
        countIf(isNotNull(reported_at)) AS reported,
        sumIf(greatest(toInt64(0), toInt64(assumeNotNull(reported_at)) - toInt64(occurred_at)), isNotNull(reported_at)) AS delay,
        toUInt64(0) AS dead
    FROM %[1]s FINAL
    WHERE occurred_at >= toDateTime(%[3]d) AND occurred_at < toDateTime(%[4]d) AND ingested_us <= %[5]d
      AND type != 'event.retracted' AND %[7]s
    GROUP BY county, month
    UNION ALL
    SELECT %[6]s AS county, toUInt32(toYYYYMM(received_at)) AS month, toUInt64(0) AS events, toUInt64(0) AS checks,
        toUInt64(0) AS fails, toUInt64(0) AS reported, toInt64(0) AS delay, count() AS dead
    FROM %[2]s FINAL
    WHERE received_at >= toDateTime(%[3]d) AND received_at < toDateTime(%[4]d) AND toUInt64(received_at) * 1000000 <= %[5]d
    GROUP BY county, month
)
GROUP BY county, month
ORDER BY county, month`, s.table("events"), s.table("dead_letters"), from, cutoff, wm, deadLetterCounty, s.notRetracted(q.Watermark))
	rows, err := s.conn.Query(ctx, query)
	if err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r                                        warehouse.ActivityRow
			month                                    uint32
			events, checks, fails, reported, deadCnt uint64
			delay                                    int64
		)
		if err := rows.Scan(&r.County, &month, &events, &checks, &fails, &reported, &delay, &deadCnt); err != nil {
			return fmt.Errorf("activity: %w", err)
		}
		r.Month, r.Events, r.SpotChecks, r.SpotCheckFailures, r.Reported, r.DelaySeconds, r.DeadLetters =
			int(month), int64(events), int64(checks), int64(fails), int64(reported), delay, int64(deadCnt)
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	return nil
}

// OpenComplaints counts the complaints received before the cutoff and not
// closed before it (both ingested up to the watermark) per county and day
// of receipt, ordered by county and day. A complaint is its (USCC,
// complaint_id); one received twice counts once. GLOBAL: on a cluster the
// subquery runs once and is shipped to every shard.
func (s *Store) OpenComplaints(ctx context.Context, q warehouse.ActivityQuery) ([]warehouse.OpenComplaintDay, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("open complaints: %w", err)
	}
	cutoff, wm := q.Cutoff.Unix(), micros(q.Watermark)
	rows, err := s.conn.Query(ctx, fmt.Sprintf(`SELECT toString(source) AS county, toUInt32(toYYYYMMDD(occurred_at)) AS day,
    uniqExact(concat(uscc, '|', ref))
FROM %[1]s
WHERE type = 'complaint.received' AND occurred_at < toDateTime(%[2]d) AND ingested_us <= %[3]d AND %[4]s
  AND concat(uscc, '|', ref) GLOBAL NOT IN (SELECT concat(uscc, '|', ref) FROM %[1]s
      WHERE type = 'complaint.closed' AND occurred_at < toDateTime(%[2]d) AND ingested_us <= %[3]d AND %[4]s)
GROUP BY county, day ORDER BY county, day`, s.table("events"), cutoff, wm, s.notRetracted(q.Watermark)))
	if err != nil {
		return nil, fmt.Errorf("open complaints: %w", err)
	}
	defer rows.Close()
	var out []warehouse.OpenComplaintDay
	for rows.Next() {
		var (
			d    warehouse.OpenComplaintDay
			day  uint32
			open uint64
		)
		if err := rows.Scan(&d.County, &day, &open); err != nil {
			return nil, fmt.Errorf("open complaints: %w", err)
		}
		d.Day, d.Open = int(day), int64(open)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("open complaints: %w", err)
	}
	return out, nil
}
