package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/qcredit/qcredit/warehouse"
)

// localPart formats a TIMESTAMPTZ's day or month in Asia/Shanghai (+08:00,
// no daylight saving) as an integer: make_timestamp of the shifted epoch is
// the local wall time, whatever the session's time zone.
func localPart(col, format string) string {
	return fmt.Sprintf("CAST(strftime(make_timestamp(epoch_us(%s) + 28800000000), '%s') AS INTEGER)", col, format)
}

// deadLetterCounty is a dead letter's county: its source when that is a
// Huai'an bureau's code, else "" (the same rule as ClickHouse's).
const deadLetterCounty = `CASE WHEN regexp_full_match(source, '3208[0-9][0-9]') THEN source ELSE '' END`

// Activity streams each county's months of q's window, ordered by county
// and month (retracted events and the retractions left out): events reported, spot checks and failures, reporting delay
// (reported_at − occurred_at, where the event says when it was reported),
// dead letters.
func (s *Store) Activity(ctx context.Context, q warehouse.ActivityQuery, fn func(warehouse.ActivityRow) error) error {
	if err := q.Validate(); err != nil {
		return fmt.Errorf("activity query: %w", err)
	}
	query := `WITH ` + retractedCTE + `, a AS (
    SELECT source AS county, ` + localPart("occurred_at", "%Y%m") + ` AS month, count(*) AS events,
        count(*) FILTER (WHERE type = 'spot_check.completed') AS checks,
        count(*) FILTER (WHERE type = 'spot_check.completed' AND result = 'fail') AS fails,
        count(reported_at) AS reported,
        sum(greatest(0, epoch_us(reported_at) // 1000000 - epoch_us(occurred_at) // 1000000)) AS delay
    FROM events WHERE occurred_at >= $from AND occurred_at < $cutoff AND ingested_at <= $wm
      AND type <> 'event.retracted' AND ` + notRetracted + `
    GROUP BY ALL
), d AS (
    SELECT ` + deadLetterCounty + ` AS county, ` + localPart("received_at", "%Y%m") + ` AS month, count(*) AS dead
    FROM dead_letters WHERE received_at >= $from AND received_at < $cutoff
      AND epoch_us(received_at) // 1000000 * 1000000 <= $wmus
    GROUP BY ALL
)
SELECT coalesce(a.county, d.county), coalesce(a.month, d.month), coalesce(events, 0), coalesce(checks, 0),
    coalesce(fails, 0), coalesce(reported, 0), coalesce(delay, 0)::BIGINT, coalesce(dead, 0)
FROM a FULL OUTER JOIN d ON a.county = d.county AND a.month = d.month
ORDER BY 1, 2`
	rows, err := s.db.QueryContext(ctx, query, sql.Named("from", q.From), sql.Named("cutoff", q.Cutoff),
		sql.Named("wm", q.Watermark), sql.Named("wmus", q.Watermark.UnixMicro()))
	if err != nil {
		return fmt.Errorf("activity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r warehouse.ActivityRow
		if err := rows.Scan(&r.County, &r.Month, &r.Events, &r.SpotChecks, &r.SpotCheckFailures, &r.Reported, &r.DelaySeconds, &r.DeadLetters); err != nil {
			return fmt.Errorf("activity: %w", err)
		}
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
// complaint_id); one received twice counts once.
func (s *Store) OpenComplaints(ctx context.Context, q warehouse.ActivityQuery) ([]warehouse.OpenComplaintDay, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("open complaints: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `WITH `+retractedCTE+`
SELECT source, `+localPart("occurred_at", "%Y%m%d")+` AS day, count(DISTINCT uscc || '|' || ref)
FROM events
WHERE type = 'complaint.received' AND occurred_at < $cutoff AND ingested_at <= $wm AND `+notRetracted+`
  AND uscc || '|' || ref NOT IN (SELECT uscc || '|' || ref FROM events
      WHERE type = 'complaint.closed' AND occurred_at < $cutoff AND ingested_at <= $wm AND `+notRetracted+`)
GROUP BY ALL ORDER BY 1, 2`, sql.Named("cutoff", q.Cutoff), sql.Named("wm", q.Watermark))
	if err != nil {
		return nil, fmt.Errorf("open complaints: %w", err)
	}
	defer rows.Close()
	var out []warehouse.OpenComplaintDay
	for rows.Next() {
		var d warehouse.OpenComplaintDay
		if err := rows.Scan(&d.County, &d.Day, &d.Open); err != nil {
			return nil, fmt.Errorf("open complaints: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("open complaints: %w", err)
	}
	return out, nil
}
