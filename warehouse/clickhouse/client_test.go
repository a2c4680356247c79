package clickhouse_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/clickhouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
)

// clientQuery runs the real clickhouse-client against the store's database,
// as an analyst would, and returns its TSV output.
func clientQuery(t *testing.T, s *clickhouse.Store, url, query string) string {
	t.Helper()
	cfg, err := clickhouse.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(cfg.Addr, ":")
	out, err := exec.CommandContext(t.Context(), "clickhouse-client", "--host", host, "--port", port,
		"--database", s.Schema().DB, "--query", query).CombinedOutput()
	if err != nil {
		t.Fatalf("clickhouse-client -q %q: %v\n%s", query, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestClickHouseClientReadsTables(t *testing.T) {
	// Given a migrated database with events, when an analyst uses
	// clickhouse-client, then it lists the tables, shows the column comments
	// and counts the events once each.
	if _, err := exec.LookPath("clickhouse-client"); err != nil {
		t.Skip("clickhouse-client not installed (scripts/clickhouse.sh installs it)")
	}
	url := testURL(t)
	s := openURL(t, url)
	defer s.Close()
	a := conformance.Event(t, "320830-1", "enterprise.registered", conformance.FirmA, fixtureEpoch,
		map[string]any{"name": "盱眙县龙虾食品有限公司", "region": "320830", "industry": "C1361"})
	for range 2 { // the second write is a resend: still one row to count
		if _, err := s.Write(t.Context(), warehouse.Batch{Items: []warehouse.Item{a}}); err != nil {
			t.Fatal(err)
		}
	}

	if got := clientQuery(t, s, url, "SHOW TABLES"); got != "dead_letter_origins\ndead_letters\nenterprises\nevents\nevents_by_uscc\nevents_by_uscc_mv\nlease_claims\nrun_outputs\nrun_outputs_by_uscc\nrun_outputs_by_uscc_mv\nruns\nschema_migrations" {
		t.Errorf("SHOW TABLES:\n%s", got)
	}
	if got := clientQuery(t, s, url, "SELECT comment FROM system.columns WHERE database = currentDatabase() AND table = 'events' AND name = 'id'"); !strings.Contains(got, "idempotency key") {
		t.Errorf("events.id comment: %q", got)
	}
	if got := clientQuery(t, s, url, "SELECT type, count() FROM events FINAL GROUP BY type"); got != "enterprise.registered\t1" {
		t.Errorf("events by type: %q", got)
	}
	if got := clientQuery(t, s, url, "SELECT name, region, deregistered FROM enterprises"); got != "盱眙县龙虾食品有限公司\t320830\t0" {
		t.Errorf("enterprises: %q", got)
	}
}
