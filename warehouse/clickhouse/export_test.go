package clickhouse

import "context"

// MigrateTo applies the migrations up to version last.
func MigrateTo(s *Store, ctx context.Context, last int) ([]string, error) {
	return s.migrate(ctx, last)
}
