package clickhouse_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"

	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/conformance"
)

// cluster is started once for the whole test binary and stopped by TestMain:
// stopping and starting it between tests left 18.16 shards dying on their
// first ON CLUSTER DDL.
var cluster struct {
	once    sync.Once
	started bool
	err     error
}

func clusterScript(ctx context.Context, verb string) error {
	script, err := filepath.Abs("../../scripts/clickhouse.sh")
	if err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, script, verb).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", script, verb, err, out)
	}
	return nil
}

// clusterURL returns the URL of shard 1 of cluster "qcredit": ZooKeeper and
// two clickhouse-server processes (scripts/clickhouse.sh cluster-start),
// started on first use unless QCREDIT_TEST_CLICKHOUSE_CLUSTER_RUNNING is set.
func clusterURL(t *testing.T) string {
	t.Helper()
	testenv.ClickHouse(t) // run where the test ClickHouse runs: under make test
	if os.Getenv("QCREDIT_TEST_CLICKHOUSE_CLUSTER_RUNNING") == "" {
		cluster.once.Do(func() {
			cluster.err = clusterScript(context.Background(), "cluster-start")
			cluster.started = cluster.err == nil
		})
		if cluster.err != nil {
			t.Fatal(cluster.err)
		}
	}
	return "clickhouse://127.0.0.1:19100"
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cluster.started {
		if err := clusterScript(context.Background(), "cluster-stop"); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

func TestClusterConformance(t *testing.T) {
	// Given the migrations rendered for a two-shard cluster with Replicated
	// engines and run ON CLUSTER, then the store passes the conformance
	// suite through the Distributed tables.
	base := clusterURL(t)
	conformance.Run(t, func(t *testing.T) conformance.Backend {
		return openURL(t, testDBURL(t, base, "?cluster=qcredit"))
	})
}

func TestClusterSpreadsRowsOverShards(t *testing.T) {
	// Given events of many firms written through the Distributed table, then
	// both shards hold some of them, and counts through the cluster see all.
	url := testDBURL(t, clusterURL(t), "?cluster=qcredit")
	s := openURL(t, url)
	defer s.Close()
	var items []warehouse.Item
	for i, line := range fixtureLines(400, 3) {
		it, dl := ingest.Decoder{}.Decode(line, model.Origin{Kind: "test", Name: t.Name(), Position: strconv.Itoa(i)})
		if dl == nil {
			items = append(items, it)
		}
	}
	res, err := s.Write(t.Context(), warehouse.Batch{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(t.Context())
	if err != nil || st.Events.Total != int64(res.Stored) {
		t.Fatalf("stats %+v, %v; stored %d", st.Events, err, res.Stored)
	}
	var sum int
	for _, port := range []string{"19100", "19200"} {
		out, err := exec.CommandContext(t.Context(), "clickhouse-client", "--port", port, "--query",
			"SELECT count() FROM "+s.Schema().DB+".events_local").CombinedOutput()
		if err != nil {
			t.Fatalf("shard on %s: %v\n%s", port, err, out)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if n == 0 {
			t.Errorf("shard on port %s holds no events", port)
		}
		sum += n
	}
	if sum != res.Stored {
		t.Errorf("shards hold %d events, %d stored", sum, res.Stored)
	}
}
