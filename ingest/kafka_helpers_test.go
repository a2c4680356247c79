package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// startKfake starts an in-process broker for fast tests.
func startKfake(t *testing.T, partitions int) []string {
	t.Helper()
	return startKfakeCluster(t, partitions).ListenAddrs()
}

// startKfakeCluster is startKfake for tests that steer the broker's answers.
func startKfakeCluster(t *testing.T, partitions int) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions), kfake.GroupMinSessionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// createTopic creates topic with its partitions before anything is published,
// so consumers and producers agree on the partition count.
func createTopic(t *testing.T, brokers []string, topic string, partitions int) {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second} // a one-shot call: room for a slow broker
	res, err := cl.CreateTopics(t.Context(), &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	if err := res.Errors[topic]; err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

func publish(t *testing.T, brokers []string, topic string, msgs []ingest.Message) {
	t.Helper()
	p := ingest.NewPublisher(brokers, topic)
	defer p.Close()
	for chunk := range slices.Chunk(msgs, 10_000) {
		if err := p.Publish(t.Context(), chunk...); err != nil {
			t.Fatal(err)
		}
	}
}

// offsets are next offsets per partition: committed ones of a group, or the
// end of the log.
type offsets map[int]int64

func (o offsets) total() int64 {
	var n int64
	for _, v := range o {
		n += max(v, 0)
	}
	return n
}

func endOffsets(ctx context.Context, brokers []string, topic string, partitions int) (offsets, error) {
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := make([]kafka.OffsetRequest, partitions)
	for p := range partitions {
		req[p] = kafka.LastOffsetOf(p)
	}
	res, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, err
	}
	out := offsets{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.LastOffset
	}
	return out, nil
}

func committedOffsets(ctx context.Context, brokers []string, group, topic string, partitions int) (offsets, error) {
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	res, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group,
		Topics: map[string][]int{topic: slices.Collect(intRange(partitions))}})
	if err != nil {
		return nil, err
	}
	if res.Error != nil {
		return nil, res.Error
	}
	out := offsets{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

func intRange(n int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// waitCommitted polls until the group has committed every partition up to
// its end, or fails the test after timeout. Errors while polling (a broker
// restarting) count as "not yet".
func waitCommitted(t *testing.T, brokers []string, group, topic string, partitions int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last, end offsets
	for time.Now().Before(deadline) {
		var err error
		end, err = endOffsets(t.Context(), brokers, topic, partitions)
		if err == nil {
			last, err = committedOffsets(t.Context(), brokers, group, topic, partitions)
		}
		if err == nil && maps.Equal(last, end) {
			return
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(100 * time.Millisecond): // polling interval, not synchronisation
		}
	}
	t.Fatalf("group %s did not catch up on %s within %s: committed %v, end %v", group, topic, timeout, last, end)
}

// runWorker runs a worker until the test ends or stop is called; stop
// returns Run's error.
func runWorker(t *testing.T, cfg ingest.KafkaConfig, s warehouse.Store, m ...*ingest.KafkaMetrics) (stop func() error) {
	t.Helper()
	_, stop = startWorker(t, cfg, s, m...)
	return stop
}

// startWorker is runWorker that also returns the running worker.
func startWorker(t *testing.T, cfg ingest.KafkaConfig, s warehouse.Store, m ...*ingest.KafkaMetrics) (*ingest.KafkaWorker, func() error) {
	t.Helper()
	in := ingest.KafkaWorkerInput{Config: cfg, Store: s, Log: testLogger(t)}
	if len(m) > 0 {
		in.Metrics = m[0]
	}
	w, err := ingest.NewKafkaWorker(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return w, stop
}

// dataset is a deterministic series of messages with known outcome.
type dataset struct {
	msgs        []ingest.Message
	unique      int // distinct valid events
	malformed   int // messages that must become dead letters
	duplicates  int // exact resends of an earlier message
	validIDs    map[string]bool
	malformedAt map[int]bool
}

// makeDataset makes n messages: every 100th (from 50) is malformed JSON, every
// 100th (from 0, after the first) resends an earlier event exactly; the rest
// are distinct valid events.
func makeDataset(prefix string, n int) dataset {
	d := dataset{validIDs: map[string]bool{}, malformedAt: map[int]bool{}}
	next := 0
	for i := range n {
		switch {
		case i%100 == 50:
			v := fmt.Sprintf(`{"id":"%s-bad-%d","type":`, prefix, i)
			d.msgs = append(d.msgs, ingest.Message{Key: []byte("bad"), Value: []byte(v)})
			d.malformed++
			d.malformedAt[i] = true
		case i%100 == 0 && next > 0:
			d.msgs = append(d.msgs, ingest.SampleEvent(prefix, (i*7919)%next))
			d.duplicates++
		default:
			m := ingest.SampleEvent(prefix, next)
			d.msgs = append(d.msgs, m)
			d.validIDs[fmt.Sprintf("%s-%d", prefix, next)] = true
			next++
			d.unique++
		}
	}
	return d
}

// memStore is an in-memory warehouse with the Store's idempotency rules.
type memStore struct {
	mu      sync.Mutex
	events  map[string]uint64
	letters map[string]model.DeadLetter
}

func newMemStore() *memStore {
	return &memStore{events: map[string]uint64{}, letters: map[string]model.DeadLetter{}}
}

func (s *memStore) BulkBatch() int { return 1000 } // the tests choose their batch sizes

func (s *memStore) Write(_ context.Context, b warehouse.Batch) (warehouse.WriteResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := warehouse.Prepare(b)
	res := warehouse.WriteResult{Duplicates: p.Duplicates, Conflicts: p.Conflicts}
	for _, it := range p.Items {
		if _, ok := s.events[it.Record.ID]; ok {
			res.Duplicates++
			continue
		}
		s.events[it.Record.ID] = it.Record.Hash
		res.Stored++
	}
	for _, dl := range p.DeadLetters {
		if _, ok := s.letters[dl.Key]; ok {
			res.DeadLetterRepeats++
			continue
		}
		s.letters[dl.Key] = dl.DeadLetter
		res.DeadLettered++
	}
	return res, nil
}

func (s *memStore) counts() (events, letters int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events), len(s.letters)
}

func (s *memStore) Migrate(context.Context) ([]string, error) { return nil, nil }
func (s *memStore) Enterprise(context.Context, model.USCC) (model.Enterprise, error) {
	return model.Enterprise{}, warehouse.ErrNotFound
}
func (s *memStore) Stats(context.Context) (warehouse.Stats, error) {
	e, l := s.counts()
	return warehouse.Stats{Events: warehouse.EventStats{Total: int64(e)}, DeadLetters: warehouse.DeadLetterStats{Total: int64(l)}}, nil
}
func (s *memStore) Ping(context.Context) error { return nil }
func (s *memStore) Close() error               { return nil }

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// flakyStore wraps a Store whose writes fail while failing is set, like a
// warehouse that is down.
type flakyStore struct {
	warehouse.Store
	failing atomic.Bool
	failed  chan struct{} // receives, without blocking, on every failed write
}

func newFlakyStore(s warehouse.Store) *flakyStore {
	return &flakyStore{Store: s, failed: make(chan struct{}, 1)}
}

func (s *flakyStore) Write(ctx context.Context, b warehouse.Batch) (warehouse.WriteResult, error) {
	if s.failing.Load() {
		select {
		case s.failed <- struct{}{}:
		default:
		}
		return warehouse.WriteResult{}, errors.New("warehouse unavailable (test)")
	}
	return s.Store.Write(ctx, b)
}

// storeCounts returns how many events and dead letters s holds.
func storeCounts(t *testing.T, s warehouse.Store) (events, letters int) {
	t.Helper()
	st, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(st.Events.Total), int(st.DeadLetters.Total)
}
