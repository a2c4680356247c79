package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/warehouse/duckdb"
)

// benchIngestInput is what one `qcredit bench ingest` run measures.
type benchIngestInput struct {
	Brokers    []string // empty: an in-process kfake broker
	Events     int
	Partitions int
	BatchSize  int
}

func newBenchIngestCmd(a *app) *cobra.Command {
	var in benchIngestInput
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Measure Kafka ingest against a bare kafka-go consumer on the same topic",
		Long: `Publishes --events events to a fresh topic, then reads them twice in the same run:
(a) a bare kafka-go consumer-group FetchMessage loop that does nothing with them, and
(b) the full ingest worker (decode, validate, store into a fresh DuckDB, commit).
Prints both rates and their ratio. Without --brokers it starts an in-process
broker (kfake); give a real broker's address to measure Kafka itself.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.BatchSize == 0 {
				in.BatchSize = a.cfg.Ingest.BatchSize
			}
			return a.benchIngest(cmd.Context(), cmd.OutOrStdout(), in)
		},
	}
	cmd.Flags().StringSliceVar(&in.Brokers, "brokers", nil, "Kafka brokers (default: an in-process broker)")
	cmd.Flags().IntVar(&in.Events, "events", 1_000_000, "events to publish and ingest")
	cmd.Flags().IntVar(&in.Partitions, "partitions", 4, "partitions of the bench topic")
	cmd.Flags().IntVar(&in.BatchSize, "batch-size", 0, "ingest batch size (default ingest.batch_size)")
	return cmd
}

func (a *app) benchIngest(ctx context.Context, out io.Writer, in benchIngestInput) error {
	brokers := in.Brokers
	where := "a real broker at " + fmt.Sprint(brokers)
	if len(brokers) == 0 {
		c, err := startDevBroker("127.0.0.1:0", in.Partitions, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		brokers = c.ListenAddrs()
		where = "an in-process kfake broker"
	}
	topic := fmt.Sprintf("qcredit.bench.%d", time.Now().UnixNano())
	fmt.Fprintf(out, "bench ingest: %d events, topic %s (%d partitions) on %s\n", in.Events, topic, in.Partitions, where)
	if err := createBenchTopic(ctx, brokers, topic, in.Partitions); err != nil {
		return err
	}

	took, err := benchPublish(ctx, brokers, topic, in.Events)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  publish:           %8.2f s  %9.0f events/s\n", took.Seconds(), rate(in.Events, took))

	// A fresh broker creates its offsets topic on the first group join,
	// which would be timed as fetching: join a throwaway group first.
	if _, err := benchFetch(ctx, brokers, topic, "bench-warmup-", 1); err != nil {
		return err
	}
	fetchTook, err := benchFetch(ctx, brokers, topic, "bench-fetch-", in.Events)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  (a) bare fetch:    %8.2f s  %9.0f events/s\n", fetchTook.Seconds(), rate(in.Events, fetchTook))

	ingestTook, err := a.benchFullIngest(ctx, brokers, topic, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  (b) ingest+DuckDB: %8.2f s  %9.0f events/s (batch size %d)\n",
		ingestTook.Seconds(), rate(in.Events, ingestTook), in.BatchSize)
	ratio := fetchTook.Seconds() / ingestTook.Seconds()
	fmt.Fprintf(out, "  ratio (b)/(a):     %8.2f   (targets: ingest >= 100000 events/s, ratio >= 0.5)\n", ratio)
	return nil
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func createBenchTopic(ctx context.Context, brokers []string, topic string, partitions int) error {
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	res, err := cl.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// benchPublish publishes n sample events from 4 concurrent publishers.
func benchPublish(ctx context.Context, brokers []string, topic string, n int) (time.Duration, error) {
	const publishers, chunk = 4, 10_000
	start := time.Now()
	errc := make(chan error, publishers)
	for w := range publishers {
		go func() {
			p := ingest.NewPublisher(brokers, topic)
			defer p.Close()
			msgs := make([]ingest.Message, 0, chunk)
			for lo := w * chunk; lo < n; lo += publishers * chunk {
				msgs = msgs[:0]
				for i := lo; i < min(lo+chunk, n); i++ {
					msgs = append(msgs, ingest.SampleEvent("bench", i))
				}
				if err := p.Publish(ctx, msgs...); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	var errs []error
	for range publishers {
		errs = append(errs, <-errc)
	}
	return time.Since(start), errors.Join(errs...)
}

// benchFetch is the baseline: one consumer-group member fetching n messages
// and doing nothing with them (reader settings as the worker's).
func benchFetch(ctx context.Context, brokers []string, topic, group string, n int) (time.Duration, error) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, GroupID: group + topic, GroupTopics: []string{topic},
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 1250 * time.Millisecond, QueueCapacity: 5000,
		StartOffset: kafka.FirstOffset,
	})
	defer r.Close()
	start := time.Now()
	for range n {
		if _, err := r.FetchMessage(ctx); err != nil {
			return 0, fmt.Errorf("bare fetch: %w", err)
		}
	}
	return time.Since(start), nil
}

// benchFullIngest runs the ingest worker into a fresh DuckDB file until the
// group has committed every message.
func (a *app) benchFullIngest(ctx context.Context, brokers []string, topic string, in benchIngestInput) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "qcredit-bench-ingest-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	s, err := duckdb.Open(ctx, filepath.Join(dir, "bench.duckdb"), a.log)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	group := "bench-ingest-" + topic
	w, err := ingest.NewKafkaWorker(ingest.KafkaWorkerInput{
		Config: ingest.KafkaConfig{Brokers: brokers, Topics: []string{topic}, Group: group,
			BatchSize: in.BatchSize, BatchInterval: a.cfg.Ingest.BatchInterval},
		Store: s, Log: a.log,
	})
	if err != nil {
		return 0, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	if err := waitGroupCommitted(ctx, brokers, group, topic, in.Partitions, int64(in.Events), done); err != nil {
		return 0, err
	}
	took := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return 0, err
	}
	if t := w.Total(); t.Stored != in.Events {
		return 0, fmt.Errorf("ingest stored %d of %d events", t.Stored, in.Events)
	}
	return took, nil
}

// waitGroupCommitted polls the group's committed offsets until they add up to n.
func waitGroupCommitted(ctx context.Context, brokers []string, group, topic string, partitions int, n int64, done <-chan error) error {
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: slices.Collect(func(yield func(int) bool) {
		for p := range partitions {
			if !yield(p) {
				return
			}
		}
	})}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			return fmt.Errorf("ingest worker stopped early: %w", err)
		case <-tick.C:
		}
		res, err := cl.OffsetFetch(ctx, req)
		if err != nil {
			continue
		}
		var sum int64
		for _, p := range res.Topics[topic] {
			sum += max(p.CommittedOffset, 0)
		}
		if sum >= n {
			return nil
		}
	}
}
