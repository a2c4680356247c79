package clickhouse_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
)

// testURL is a clickhouse:// URL of a database on the test server that no
// other test uses; the database is dropped when the test ends.
func testURL(t testing.TB) string {
	t.Helper()
	return testDBURL(t, testenv.ClickHouse(t), "")
}

// testDBURL is a URL of a fresh database on the server at base (a URL
// without a database) with query (e.g. "?cluster=qcredit"), dropped when the
// test ends.
func testDBURL(t testing.TB, base, query string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	url := strings.TrimRight(base, "/") + "/qcredit_test_" + hex.EncodeToString(b) + query
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context()) // t.Context is done during cleanup
		s, err := clickhouse.Open(ctx, url, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer s.Close()
		if err := s.DropDatabase(ctx); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return url
}

// openTest opens a fresh, migrated store in its own database.
func openTest(t testing.TB) *clickhouse.Store {
	t.Helper()
	return openURL(t, testURL(t))
}

// openURL opens and migrates the store at url.
func openURL(t testing.TB, url string) *clickhouse.Store {
	t.Helper()
	s, err := clickhouse.Open(t.Context(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(t.Context()); err != nil {
		s.Close()
		t.Fatal(err)
	}
	s.LeaseSettle = 100 * time.Millisecond // one server, one test: nothing races
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Backend { return openTest(t) })
}
