package ingest_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/qcredit/qcredit/ingest"
)

// Fast tests of the worker's logic against kfake, an in-process broker.
// The same properties are tested against Apache Kafka in
// kafka_integration_test.go.

func kfakeConfig(brokers []string, topic string) ingest.KafkaConfig {
	return ingest.KafkaConfig{Brokers: brokers, Topics: []string{topic}, Group: "g-" + topic,
		BatchSize: 500, BatchInterval: 50 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond}
}

func TestKafkaWorkerStoresEachEventOnce(t *testing.T) {
	// given 5,000 messages with 1 % resends and 1 % malformed over 4 partitions,
	// when the worker consumes them, then each event and each bad message is stored once.
	brokers := startKfake(t, 4)
	d := makeDataset("once", 5000)
	publish(t, brokers, "once", d.msgs)
	s := newMemStore()
	cfg := kfakeConfig(brokers, "once")
	stop := runWorker(t, cfg, s)
	waitCommitted(t, brokers, cfg.Group, "once", 4, time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	events, letters := s.counts()
	if events != d.unique || letters != d.malformed {
		t.Fatalf("stored %d events and %d dead letters, want %d and %d", events, letters, d.unique, d.malformed)
	}
}

func TestKafkaWorkerClosesBatchesByTime(t *testing.T) {
	// given a batch size far above what is sent, when 3 events trickle in,
	// then they are stored and committed anyway (the batch interval closes the batch).
	brokers := startKfake(t, 2)
	s := newMemStore()
	cfg := kfakeConfig(brokers, "trickle")
	cfg.BatchSize = 10_000
	createTopic(t, brokers, "trickle", 2)
	runWorker(t, cfg, s)
	publish(t, brokers, "trickle", []ingest.Message{ingest.SampleEvent("tr", 1), ingest.SampleEvent("tr", 2), ingest.SampleEvent("tr", 3)})
	waitCommitted(t, brokers, cfg.Group, "trickle", 2, time.Minute)
	if events, _ := s.counts(); events != 3 {
		t.Fatalf("stored %d events, want 3", events)
	}
}

func TestKafkaWorkerRetriesFailedCommits(t *testing.T) {
	// given a group coordinator that refuses the first offset commits (as a
	// slow or moving coordinator does) and one batch of messages with nothing
	// after it, when the worker stores the batch and its commit fails, then a
	// later retry commits it anyway: a partition gone quiet is not left behind.
	c := startKfakeCluster(t, 2)
	brokers := c.ListenAddrs()
	const refuse = 5 // more than kafka-go's own 3 attempts per CommitMessages
	var refused atomic.Int32
	c.ControlKey(kmsg.OffsetCommit.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		if refused.Load() >= refuse {
			c.DropControl()
			return nil, nil, false
		}
		refused.Add(1)
		c.KeepControl()
		return refuseCommit(kr.(*kmsg.OffsetCommitRequest)), nil, true
	})
	d := makeDataset("refused", 200)
	publish(t, brokers, "refused", d.msgs)
	s := newMemStore()
	reg := prometheus.NewRegistry()
	m, err := ingest.NewKafkaMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := kfakeConfig(brokers, "refused")
	cfg.BatchSize = 10_000
	runWorker(t, cfg, s, m)
	waitCommitted(t, brokers, cfg.Group, "refused", 2, time.Minute)
	if n := refused.Load(); n != refuse {
		t.Fatalf("the coordinator refused %d commits, want %d", n, refuse)
	}
	if got := counterValue(t, reg, "qcredit_ingest_kafka_commit_errors_total"); got < 1 {
		t.Fatalf("commit errors metric is %v, want at least 1", got)
	}
	if events, letters := s.counts(); events != d.unique || letters != d.malformed {
		t.Fatalf("stored %d events and %d dead letters, want %d and %d", events, letters, d.unique, d.malformed)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

// refuseCommit answers an offset commit with COORDINATOR_LOAD_IN_PROGRESS
// for every partition.
func refuseCommit(req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func TestKafkaWorkerCommitsOnlyStoredBatches(t *testing.T) {
	// given a warehouse that fails every write, when messages arrive, then
	// nothing is committed; once it recovers, everything is stored and committed.
	brokers := startKfake(t, 3)
	d := makeDataset("down", 1000)
	publish(t, brokers, "down", d.msgs)
	mem := newMemStore()
	s := newFlakyStore(mem)
	s.failing.Store(true)
	cfg := kfakeConfig(brokers, "down")
	runWorker(t, cfg, s)
	for range 3 { // three failed attempts: the worker is retrying, not giving up
		<-s.failed
	}
	got, err := committedOffsets(t.Context(), brokers, cfg.Group, "down", 3)
	if err != nil {
		t.Fatal(err)
	}
	if n := got.total(); n != 0 {
		t.Fatalf("committed %d offsets (%v) while the warehouse stored nothing", n, got)
	}
	if events, _ := mem.counts(); events != 0 {
		t.Fatalf("stored %d events through a failing warehouse", events)
	}
	s.failing.Store(false)
	waitCommitted(t, brokers, cfg.Group, "down", 3, time.Minute)
	if events, letters := mem.counts(); events != d.unique || letters != d.malformed {
		t.Fatalf("stored %d events and %d dead letters, want %d and %d", events, letters, d.unique, d.malformed)
	}
}

func TestKafkaWorkerStoresBatchInHandOnCancel(t *testing.T) {
	// given a batch that would stay open for an hour, when the worker is
	// cancelled holding 10 messages, then it stores and commits them before Run returns.
	brokers := startKfake(t, 1)
	publish(t, brokers, "cancel", d10())
	s := newMemStore()
	cfg := kfakeConfig(brokers, "cancel")
	cfg.BatchSize, cfg.BatchInterval = 10_000, time.Hour
	w, err := ingest.NewKafkaWorker(ingest.KafkaWorkerInput{Config: cfg, Store: s, Log: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for w.InHand() < 10 {
		select {
		case err := <-done:
			t.Fatalf("worker stopped early: %v", err)
		case <-time.After(10 * time.Millisecond): // polling interval
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if events, _ := s.counts(); events != 10 {
		t.Fatalf("stored %d events, want 10", events)
	}
	got, err := committedOffsets(t.Context(), brokers, cfg.Group, "cancel", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 10 {
		t.Fatalf("committed offset %d, want 10", got[0])
	}
}

func d10() []ingest.Message {
	var ms []ingest.Message
	for i := range 10 {
		ms = append(ms, ingest.SampleEvent("c", i))
	}
	return ms
}

func TestDecodeMessagesRecordsTopicPartitionOffset(t *testing.T) {
	// given a large batch with one malformed message, when decoded, then the
	// dead letter names topic, partition and offset and the order is kept.
	var msgs []kafka.Message
	for i := range 3000 {
		m := kafka.Message{Topic: "t", Partition: 2, Offset: int64(i), Value: ingest.SampleEvent("o", i).Value}
		if i == 1717 {
			m.Value = []byte("{broken")
		}
		msgs = append(msgs, m)
	}
	b := ingest.DecodeMessages(ingest.Decoder{}, msgs)
	if len(b.Items) != 2999 || len(b.DeadLetters) != 1 {
		t.Fatalf("got %d items and %d dead letters, want 2999 and 1", len(b.Items), len(b.DeadLetters))
	}
	if got := b.DeadLetters[0].Origin.String(); got != "kafka:t:2/1717" {
		t.Fatalf("dead letter origin %q, want kafka:t:2/1717", got)
	}
	for i, it := range b.Items[:1717] {
		if it.Origin.Position != "2/"+itoa(i) {
			t.Fatalf("item %d has position %s", i, it.Origin.Position)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestKafkaWorkerMetrics(t *testing.T) {
	// given 1,000 messages with known resends and malformed ones, when they
	// are ingested, then the counters say exactly that and no lag is left.
	brokers := startKfake(t, 2)
	d := makeDataset("metrics", 1000)
	publish(t, brokers, "metrics", d.msgs)
	reg := prometheus.NewRegistry()
	m, err := ingest.NewKafkaMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := kfakeConfig(brokers, "metrics")
	stop := runWorker(t, cfg, newMemStore(), m)
	waitCommitted(t, brokers, cfg.Group, "metrics", 2, time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"qcredit_ingest_kafka_consumed_total":      1000,
		"qcredit_ingest_kafka_stored_total":        float64(d.unique),
		"qcredit_ingest_kafka_duplicates_total":    float64(d.duplicates),
		"qcredit_ingest_kafka_dead_lettered_total": float64(d.malformed),
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			switch {
			case f.GetName() == "qcredit_ingest_kafka_lag_messages":
				if v := metric.GetGauge().GetValue(); v != 0 {
					t.Errorf("lag %v after catching up", v)
				}
			case want[f.GetName()] != 0:
				if v := metric.GetCounter().GetValue(); v != want[f.GetName()] {
					t.Errorf("%s = %v, want %v", f.GetName(), v, want[f.GetName()])
				}
				delete(want, f.GetName())
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("metrics missing: %v", want)
	}
}

func BenchmarkDecodeMessages(b *testing.B) {
	msgs := make([]kafka.Message, 5000)
	for i := range msgs {
		msgs[i] = kafka.Message{Topic: "t", Partition: i % 4, Offset: int64(i), Value: ingest.SampleEvent("b", i).Value}
	}
	b.SetBytes(int64(len(msgs)))
	for b.Loop() {
		ingest.DecodeMessages(ingest.Decoder{}, msgs)
	}
	b.ReportMetric(float64(len(msgs)*b.N)/b.Elapsed().Seconds(), "events/s")
}
