//go:build !duckdb_arrow

package duckdb

import (
	"context"

	"github.com/qcredit/qcredit/warehouse"
)

// clusterEnterpriseRows reads clusterEnterprisesSQL through database/sql:
// the portable path; builds with -tags duckdb_arrow read Arrow batches.
func (s *Store) clusterEnterpriseRows(ctx context.Context, args []any, fn func(warehouse.ClusterEnterprise) error) error {
	rows, err := s.db.QueryContext(ctx, clusterEnterprisesSQL, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e warehouse.ClusterEnterprise
		if err := rows.Scan(&e.USCC, &e.Name, &e.Region, &e.Industry, &e.Cluster); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// clusterRecordRows reads clusterRecordsSQL through database/sql.
func (s *Store) clusterRecordRows(ctx context.Context, args []any, fn func(warehouse.ClusterRecord) error) error {
	rows, err := s.db.QueryContext(ctx, clusterRecordsSQL, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	kinds := map[string]warehouse.ClusterRecordKind{}
	for rows.Next() {
		var r warehouse.ClusterRecord
		var kind string
		if err := rows.Scan(&kind, &r.EventID, &r.USCC, &r.OccurredAt, &r.Failed, &r.Product, &r.Grade); err != nil {
			return err
		}
		k, ok := kinds[kind]
		if !ok {
			k = warehouse.ClusterRecordKind(kind)
			kinds[kind] = k
		}
		r.Kind = k
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
