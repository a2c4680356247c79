package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/warehouse"
	"github.com/qcredit/qcredit/warehouse/duckdb/duckdbtest"
)

// Integration tests against the Apache Kafka broker that `make test` starts
// (scripts/kafka.sh). Each test uses its own topic and group, so they share
// the broker with other packages' tests.

// uniqueName keeps topics and groups of reruns against one broker apart.
func uniqueName(t *testing.T) string {
	return fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())
}

func realConfig(brokers []string, name string) ingest.KafkaConfig {
	return ingest.KafkaConfig{Brokers: brokers, Topics: []string{name}, Group: name,
		BatchSize: 2000, BatchInterval: 100 * time.Millisecond, SessionTimeout: 3 * time.Second,
		MaxBackoff: 200 * time.Millisecond}
}

// testWarehouseURL is the warehouse the child-process tests give `qcredit
// ingest`: QCREDIT_TEST_INGEST_WAREHOUSE with {name} replaced by a fresh name
// (e.g. clickhouse://127.0.0.1:19000/{name}), else a DuckDB file under dir.
func testWarehouseURL(t *testing.T, dir, name string) string {
	if u := os.Getenv("QCREDIT_TEST_INGEST_WAREHOUSE"); u != "" {
		return strings.ReplaceAll(u, "{name}", strings.NewReplacer("-", "_", ".", "_").Replace(name))
	}
	return "duckdb://" + filepath.Join(dir, name+".duckdb")
}

// child is one `qcredit` process.
type child struct {
	cmd     *exec.Cmd
	log     string
	exited  chan struct{}
	waitErr error // set once exited is closed
}

func startIngest(t *testing.T, warehouseURL string, cfg ingest.KafkaConfig, logPath string) *child {
	t.Helper()
	return startChild(t, warehouseURL, cfg, logPath, "ingest", "127.0.0.1:0")
}

// startChild starts `qcredit serve` or `qcredit ingest` consuming per cfg,
// with its HTTP endpoints (the API, or the ingest worker's ops endpoints) on addr.
func startChild(t *testing.T, warehouseURL string, cfg ingest.KafkaConfig, logPath, command, addr string) *child {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	args := []string{command}
	env := []string{"QCREDIT_INGEST_LISTEN=" + addr}
	if command == "serve" {
		env = []string{"QCREDIT_LISTEN=" + addr}
	} else {
		args = append(args, "--session-timeout", cfg.SessionTimeout.String())
	}
	cmd := exec.Command(testenv.Binary(t), args...)
	cmd.Env = append(os.Environ(), append(env,
		"QCREDIT_WAREHOUSE="+warehouseURL,
		"QCREDIT_KAFKA_BROKERS="+strings.Join(cfg.Brokers, ","),
		"QCREDIT_KAFKA_TOPICS="+strings.Join(cfg.Topics, ","),
		"QCREDIT_KAFKA_GROUP="+cfg.Group,
		fmt.Sprintf("QCREDIT_INGEST_BATCH_SIZE=%d", cfg.BatchSize),
		"QCREDIT_INGEST_BATCH_INTERVAL="+cfg.BatchInterval.String(),
		"QCREDIT_INGEST_MAX_BACKOFF="+cfg.MaxBackoff.String(),
	)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", command, tail(logPath))
		}
	})
	return c
}

// readyz reads the child's /readyz, failing the test if the process has
// exited or its /healthz does not answer 200: both must hold throughout.
// Until the listener is open it reports the last known health as ok.
func (c *child) readyz(t *testing.T, addr string) ingest.Health {
	t.Helper()
	select {
	case <-c.exited:
		t.Fatalf("qcredit exited: %v\n%s", c.waitErr, tail(c.log))
	default:
	}
	cl := http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + addr + "/healthz")
	if err != nil {
		return ingest.Health{Status: "unreachable", Error: err.Error()}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %s", resp.Status)
	}
	resp, err = cl.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("/readyz: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string         `json:"status"`
		Ingest *ingest.Health `json:"ingest"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK || r.Ingest == nil {
		t.Fatalf("/readyz: %s %+v %v", resp.Status, r, err)
	}
	if (r.Status == "ready") != (r.Ingest.Status == ingest.HealthOK) {
		t.Errorf("/readyz says %s with ingest %s", r.Status, r.Ingest.Status)
	}
	return *r.Ingest
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.exited
}

// stop sends SIGTERM and requires a clean exit.
func (c *child) stop(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-c.exited
	if c.waitErr != nil {
		t.Fatalf("qcredit %s did not exit cleanly on SIGTERM: %v\n%s", c.cmd.Args[1], c.waitErr, tail(c.log))
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// statsOf runs `qcredit stats` on a warehouse, as an operator would.
func statsOf(t *testing.T, warehouseURL string) warehouse.Stats {
	t.Helper()
	cmd := exec.Command(testenv.Binary(t), "stats")
	cmd.Env = append(os.Environ(), "QCREDIT_WAREHOUSE="+warehouseURL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("qcredit stats: %v\n%s", err, stderr.String())
	}
	var st warehouse.Stats
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("qcredit stats output: %v\n%s", err, out)
	}
	return st
}

// waitCommittedPast polls until the group has committed more than n messages.
func waitCommittedPast(t *testing.T, brokers []string, group, topic string, partitions int, n int64, timeout time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		got, err := committedOffsets(t.Context(), brokers, group, topic, partitions)
		if err == nil && got.total() > n {
			return got.total()
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(20 * time.Millisecond): // polling interval
		}
	}
	t.Fatalf("group %s did not commit past %d messages within %s", group, n, timeout)
	return 0
}

func TestKafkaIngestSurvivesKills(t *testing.T) {
	// given 200,000 messages (1 % resent events, 1 % malformed) on 4 partitions,
	// when `qcredit ingest` is SIGKILLed at 6 random moments mid-stream and restarted each time,
	// then the warehouse holds exactly the unique valid events and one dead letter per malformed message,
	// with DuckDB and with ClickHouse as the warehouse.
	t.Run("duckdb", func(t *testing.T) {
		name := uniqueName(t)
		testSurvivesKills(t, name, testWarehouseURL(t, t.TempDir(), name))
	})
	t.Run("clickhouse", func(t *testing.T) {
		name := uniqueName(t)
		db := strings.NewReplacer("-", "_", ".", "_").Replace(name)
		testSurvivesKills(t, name, testenv.ClickHouse(t)+"/"+db)
	})
}

func testSurvivesKills(t *testing.T, name, url string) {
	brokers := testenv.KafkaBrokers(t)
	const partitions, total = 4, 200_000
	createTopic(t, brokers, name, partitions)
	d := makeDataset(name, total)
	publish(t, brokers, name, d.msgs)

	dir := t.TempDir()
	cfg := realConfig(brokers, name)
	logPath := filepath.Join(dir, "ingest.log")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	const kills = 6
	var midStream int
	for k := range kills {
		// Kill somewhere in the k-th seventh of the stream, plus a random
		// moment up to 300 ms later so kills also land inside a write.
		threshold := int64((float64(k) + rng.Float64()) / (kills + 1) * total)
		c := startIngest(t, url, cfg, logPath)
		committed := waitCommittedPast(t, brokers, cfg.Group, name, partitions, threshold, 2*time.Minute)
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) // the random kill moment, not synchronisation
		c.kill(t)
		if committed < total {
			midStream++
		}
		t.Logf("kill %d: after %d of %d messages committed", k+1, committed, total)
	}
	if midStream < 5 {
		t.Fatalf("only %d of %d kills landed mid-stream; the test proves nothing", midStream, kills)
	}
	c := startIngest(t, url, cfg, logPath)
	waitCommitted(t, brokers, cfg.Group, name, partitions, 3*time.Minute)
	c.stop(t)

	st := statsOf(t, url)
	if st.Events.Total != int64(d.unique) || st.DeadLetters.Total != int64(d.malformed) {
		t.Fatalf("warehouse holds %d events and %d dead letters, want %d and %d\n%s",
			st.Events.Total, st.DeadLetters.Total, d.unique, d.malformed, tail(logPath))
	}
}

func TestKafkaIngestSurvivesBrokerRestart(t *testing.T) {
	// given a worker halfway through a topic on a broker of its own,
	// when that broker is stopped for longer than the longest backoff step,
	// events are published before, during (retried until the broker is back)
	// and after the outage,
	// then the worker reports itself degraded while the broker is down, ok
	// again after, carries on by itself, and every event is stored once.
	b := startOwnBroker(t)
	name := uniqueName(t)
	createTopic(t, b.brokers, name, 4)
	o := newOutage(name, 30_000)
	publish(t, b.brokers, name, o.before)
	s := duckdbtest.OpenFile(t, filepath.Join(t.TempDir(), "w.duckdb"))
	cfg := realConfig(b.brokers, name)
	cfg.BatchSize, cfg.MaxBackoff = 1000, time.Second
	w, stop := startWorker(t, cfg, s)
	waitCommittedPast(t, b.brokers, cfg.Group, name, 4, 5_000, time.Minute)
	o.run(t, b, func(d time.Duration) ingest.Health { return waitHealth(t, w.Health, d) }, cfg.MaxBackoff)
	waitCommitted(t, b.brokers, cfg.Group, name, 4, 2*time.Minute)
	if h := waitHealth(t, w.Health, 0); h.Status != ingest.HealthOK {
		t.Errorf("health after the broker came back: %+v", h)
	}
	if err := stop(); err != nil {
		t.Fatalf("worker: %v", err)
	}
	if events, letters := storeCounts(t, s); events != o.unique || letters != o.malformed {
		t.Fatalf("stored %d events and %d dead letters, want %d and %d", events, letters, o.unique, o.malformed)
	}
}

func TestServeAndIngestOutliveTheirBroker(t *testing.T) {
	// given `qcredit serve` (API + ingest) or `qcredit ingest` consuming from
	// a real broker,
	// when the broker is stopped for longer than the longest backoff step and
	// started again, with events published before, during and after,
	// then the process never exits, /healthz answers throughout, /readyz
	// says ingest is degraded while the broker is down and ready after,
	// and every event is stored once.
	for _, command := range []string{"serve", "ingest"} {
		t.Run(command, func(t *testing.T) {
			b := startOwnBroker(t)
			name := uniqueName(t)
			createTopic(t, b.brokers, name, 4)
			o := newOutage(name, 30_000)
			publish(t, b.brokers, name, o.before)
			dir := t.TempDir()
			url := testWarehouseURL(t, dir, name)
			cfg := realConfig(b.brokers, name)
			cfg.BatchSize, cfg.MaxBackoff = 1000, time.Second
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			logPath := filepath.Join(dir, command+".log")
			c := startChild(t, url, cfg, logPath, command, addr)

			waitCommittedPast(t, b.brokers, cfg.Group, name, 4, 5_000, time.Minute)
			health := func(d time.Duration) ingest.Health {
				return waitHealth(t, func() ingest.Health { return c.readyz(t, addr) }, d)
			}
			o.run(t, b, health, cfg.MaxBackoff)
			waitCommitted(t, b.brokers, cfg.Group, name, 4, 2*time.Minute)
			if h := health(0); h.Status != ingest.HealthOK {
				t.Errorf("/readyz after the broker came back: %+v\n%s", h, tail(logPath))
			}
			c.stop(t)
			st := statsOf(t, url)
			if st.Events.Total != int64(o.unique) || st.DeadLetters.Total != int64(o.malformed) {
				t.Fatalf("warehouse holds %d events and %d dead letters, want %d and %d\n%s",
					st.Events.Total, st.DeadLetters.Total, o.unique, o.malformed, tail(logPath))
			}
		})
	}
}

// ownBroker is an Apache Kafka broker of one test, on ports of its own, so
// stopping it leaves the shared test broker alone.
type ownBroker struct {
	brokers []string
	sh      func(verb string, env ...string)
}

func startOwnBroker(t *testing.T) ownBroker {
	t.Helper()
	testenv.KafkaBrokers(t) // the script's broker runs only where the test services do
	port := freePort(t)
	dir := t.TempDir()
	script, err := filepath.Abs("../scripts/kafka.sh")
	if err != nil {
		t.Fatal(err)
	}
	sh := func(verb string, env ...string) {
		t.Helper()
		cmd := exec.Command(script, verb)
		cmd.Env = append(append(os.Environ(), fmt.Sprintf("KAFKA_PORT=%d", port), "KAFKA_DIR="+filepath.Join(dir, "kafka")), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kafka.sh %s: %v\n%s", verb, err, out)
		}
	}
	sh("start")
	t.Cleanup(func() { sh("stop") })
	return ownBroker{brokers: []string{fmt.Sprintf("127.0.0.1:%d", port)}, sh: sh}
}

// outage is a dataset cut in three: published before, during and after a
// broker outage. The part published during the outage is retried until the
// broker takes it, so it holds valid events only: a retried batch that had
// partly gone through is then only exact resends, counted as duplicates.
type outage struct {
	topic                 string
	before, during, after []ingest.Message
	unique, malformed     int
}

func newOutage(name string, n int) outage {
	d := makeDataset(name, n)
	o := outage{topic: name, before: d.msgs[:n*2/5], after: d.msgs[n*3/5:], unique: d.unique, malformed: d.malformed}
	for i := n * 2 / 5; i < n*3/5; i++ {
		if d.malformedAt[i] {
			o.malformed--
			continue
		}
		o.during = append(o.during, d.msgs[i])
	}
	return o
}

// run stops the broker, publishes the middle part from the moment it is
// down, keeps it down until health has been degraded for three times the
// longest backoff step, starts it again and publishes the last part.
func (o outage) run(t *testing.T, b ownBroker, health func(degradedFor time.Duration) ingest.Health, maxBackoff time.Duration) {
	t.Helper()
	b.sh("stop", "KAFKA_KEEP_DATA=1")
	during := make(chan error, 1)
	go func() { during <- publishUntilTaken(t.Context(), b.brokers, o.topic, o.during, 3*time.Minute) }()
	h := health(3 * maxBackoff)
	if h.Status != ingest.HealthDegraded || !strings.Contains(h.Error, "broker") {
		t.Errorf("health while the broker was down: %+v", h)
	}
	b.sh("start")
	if err := <-during; err != nil {
		t.Fatal(err)
	}
	publish(t, b.brokers, o.topic, o.after)
}

// publishUntilTaken publishes msgs in chunks, retrying a chunk until the
// broker acknowledges it or the deadline passes.
func publishUntilTaken(ctx context.Context, brokers []string, topic string, msgs []ingest.Message, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	p := ingest.NewPublisher(brokers, topic)
	defer p.Close()
	for chunk := range slices.Chunk(msgs, 1000) {
		for {
			err := p.Publish(ctx, chunk...)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("publishing during the outage: %w", err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond): // retry interval, as a producing bureau would
			}
		}
	}
	return nil
}

// waitHealth polls health until it has been degraded for at least
// degradedFor (or, with 0, until it is ok) and returns it; it fails the
// test after two minutes.
func waitHealth(t *testing.T, health func() ingest.Health, degradedFor time.Duration) ingest.Health {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var h ingest.Health
	for time.Now().Before(deadline) {
		h = health()
		switch {
		case degradedFor == 0 && h.Status == ingest.HealthOK:
			return h
		case degradedFor > 0 && h.Status == ingest.HealthDegraded && time.Since(h.Since) >= degradedFor:
			return h
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(50 * time.Millisecond): // polling interval
		}
	}
	t.Fatalf("health did not reach the expected state within 2 minutes: %+v", h)
	return h
}

func freePort(t *testing.T) int {
	t.Helper()
	// The controller takes the next port, so find two free ones in a row.
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if ln2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1)); err == nil {
			ln2.Close()
			return p
		}
	}
	t.Fatal("no two free ports in a row")
	return 0
}

func TestKafkaIngestCommitsNothingPastTheWarehouse(t *testing.T) {
	// given a worker that has stored and committed a first part of a topic,
	// when the warehouse fails every write while more events arrive,
	// then the committed offsets stay where the stored data ends, and once it
	// is back every event is stored once.
	brokers := testenv.KafkaBrokers(t)
	name := uniqueName(t)
	createTopic(t, brokers, name, 4)
	d := makeDataset(name, 20_000)
	s := newFlakyStore(duckdbtest.OpenFile(t, filepath.Join(t.TempDir(), "w.duckdb")))
	cfg := realConfig(brokers, name)
	stop := runWorker(t, cfg, s)

	publish(t, brokers, name, d.msgs[:5_000])
	waitCommitted(t, brokers, cfg.Group, name, 4, time.Minute)
	stored, err := committedOffsets(t.Context(), brokers, cfg.Group, name, 4)
	if err != nil {
		t.Fatal(err)
	}
	storedEvents, _ := storeCounts(t, s)

	s.failing.Store(true)
	publish(t, brokers, name, d.msgs[5_000:])
	for range 4 { // the worker has fetched the new messages and is retrying
		<-s.failed
	}
	during, err := committedOffsets(t.Context(), brokers, cfg.Group, name, 4)
	if err != nil {
		t.Fatal(err)
	}
	if during.total() != stored.total() {
		t.Fatalf("committed offsets moved from %v to %v while the warehouse was down", stored, during)
	}
	if events, _ := storeCounts(t, s); events != storedEvents {
		t.Fatalf("events went from %d to %d while writes failed", storedEvents, events)
	}

	s.failing.Store(false)
	waitCommitted(t, brokers, cfg.Group, name, 4, time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if events, letters := storeCounts(t, s); events != d.unique || letters != d.malformed {
		t.Fatalf("stored %d events and %d dead letters, want %d and %d", events, letters, d.unique, d.malformed)
	}
}

func TestTwoIngestProcessesShareTheGroup(t *testing.T) {
	// given two `qcredit ingest` processes in one group, each with its own
	// DuckDB file (DuckDB allows one writer per file), both holding partitions,
	// when a topic is published, then the two files together hold every event
	// exactly once: the union is complete and the two are disjoint.
	brokers := testenv.KafkaBrokers(t)
	name := uniqueName(t)
	const partitions = 4
	createTopic(t, brokers, name, partitions)
	dir := t.TempDir()
	cfg := realConfig(brokers, name)
	cfg.SessionTimeout = 10 * time.Second // no spurious rebalance on a busy machine
	paths := []string{filepath.Join(dir, "a.duckdb"), filepath.Join(dir, "b.duckdb")}
	var children []*child
	for i, p := range paths {
		children = append(children, startIngest(t, "duckdb://"+p, cfg, filepath.Join(dir, fmt.Sprintf("ingest-%d.log", i))))
	}
	waitGroupMembers(t, brokers, cfg.Group, 2, partitions, 2*time.Minute)

	d := makeDataset(name, 20_000)
	publish(t, brokers, name, d.msgs)
	waitCommitted(t, brokers, cfg.Group, name, partitions, 2*time.Minute)
	for _, c := range children {
		c.stop(t)
	}

	seen := map[string]int{}
	var letters int
	for _, p := range paths {
		ids, dl := eventIDs(t, p)
		if len(ids) == 0 {
			t.Fatalf("%s holds no events: the partitions were not shared", p)
		}
		for _, id := range ids {
			seen[id]++
		}
		letters += dl
	}
	for id, n := range seen {
		if n > 1 {
			t.Fatalf("event %s stored by both processes", id)
		}
		if !d.validIDs[id] {
			t.Fatalf("unexpected event %s", id)
		}
	}
	if len(seen) != d.unique || letters != d.malformed {
		t.Fatalf("stored %d events and %d dead letters together, want %d and %d", len(seen), letters, d.unique, d.malformed)
	}
}

// waitGroupMembers polls until the group is stable with members members
// holding all partitions between them.
func waitGroupMembers(t *testing.T, brokers []string, group string, members, partitions int, timeout time.Duration) {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		res, err := cl.DescribeGroups(t.Context(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err == nil && len(res.Groups) == 1 && res.Groups[0].GroupState == "Stable" && len(res.Groups[0].Members) == members {
			assigned, holders := 0, 0
			for _, m := range res.Groups[0].Members {
				n := 0
				for _, tp := range m.MemberAssignments.Topics {
					n += len(tp.Partitions)
				}
				assigned += n
				if n > 0 {
					holders++
				}
			}
			if assigned == partitions && holders == members {
				return
			}
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(100 * time.Millisecond): // polling interval
		}
	}
	t.Fatalf("group %s did not settle with %d members within %s", group, members, timeout)
}

// eventIDs reads the event ids and the dead-letter count of a DuckDB file
// after its process exited.
func eventIDs(t *testing.T, path string) ([]string, int) {
	t.Helper()
	s := duckdbtest.OpenFile(t, path)
	rows, err := s.DB().QueryContext(t.Context(), "SELECT id FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_, letters := storeCounts(t, s)
	return ids, letters
}

func TestKafkaIngestTakesEventsFromKcat(t *testing.T) {
	// given events and one malformed line produced by kcat (an outside
	// client, as a bureau would use it), when the worker consumes the topic,
	// then the events are stored and the bad line is dead-lettered.
	brokers := testenv.KafkaBrokers(t)
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is required (scripts/kafka.sh installs it): %v", err)
	}
	name := uniqueName(t)
	createTopic(t, brokers, name, 4)
	var in bytes.Buffer
	const n = 500
	for i := range n {
		m := ingest.SampleEvent(name, i)
		fmt.Fprintf(&in, "%s:%s\n", m.Key, m.Value)
	}
	in.WriteString("91320804MA1XXXXXXX:{\"id\": \"from-kcat-broken\"\n")
	cmd := exec.Command(kcat, "-P", "-b", strings.Join(brokers, ","), "-t", name, "-K:")
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	s := newMemStore()
	cfg := realConfig(brokers, name)
	stop := runWorker(t, cfg, s)
	waitCommitted(t, brokers, cfg.Group, name, 4, time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if events, letters := s.counts(); events != n || letters != 1 {
		t.Fatalf("stored %d events and %d dead letters, want %d and 1", events, letters, n)
	}
}
