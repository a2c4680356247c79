package clickhouse

import "context"

// MigrateTo applies the migrations up to version last.
func MigrateTo(ctx context.Context, s *Store, last int) ([]string, error) {
	return s.migrate(ctx, last)
}
