package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// Defaults of KafkaConfig. A batch closes at 50,000 messages or 1 s after its
// first message, whichever comes first: both warehouses want few large
// inserts (ClickHouse asks for about one per second of at least 1,000 rows;
// a DuckDB write has a fixed cost of a transaction and a lookup of the batch's
// ids, measured on 1M events: 71k events/s with batches of 5,000, 102k with
// 20,000, 128k with 50,000), every batch costs one synchronous offset commit,
// and 1 s bounds how long a trickling bureau's event waits before it is stored.
const (
	DefaultKafkaBatchSize     = 50_000
	DefaultKafkaBatchInterval = time.Second
	DefaultKafkaMaxBackoff    = 30 * time.Second
	DefaultKafkaSession       = 10 * time.Second
	DefaultKafkaShutdown      = 30 * time.Second
)

// KafkaConfig says what a KafkaWorker consumes and how it batches.
type KafkaConfig struct {
	Brokers       []string
	Topics        []string
	Group         string
	BatchSize     int           // messages per warehouse write; default DefaultKafkaBatchSize
	BatchInterval time.Duration // longest a batch stays open; default DefaultKafkaBatchInterval
	// MaxBackoff caps the wait between retries of a failed warehouse write
	// or a failed fetch (broker down, coordinator moving, rebalance).
	MaxBackoff time.Duration
	// SessionTimeout is how long the group waits for a silent member (a
	// crashed process) before giving its partitions to the others.
	SessionTimeout time.Duration
	// ShutdownTimeout bounds the final write and commit after ctx ends.
	ShutdownTimeout time.Duration
}

// Validate reports what is missing.
func (c KafkaConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers (QCREDIT_KAFKA_BROKERS)"))
	}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New("no topics (QCREDIT_KAFKA_TOPICS)"))
	}
	if c.Group == "" {
		errs = append(errs, errors.New("no consumer group (QCREDIT_KAFKA_GROUP)"))
	}
	return errors.Join(errs...)
}

func (c KafkaConfig) withDefaults() KafkaConfig {
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultKafkaBatchSize
	}
	if c.BatchInterval <= 0 {
		c.BatchInterval = DefaultKafkaBatchInterval
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultKafkaMaxBackoff
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultKafkaSession
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultKafkaShutdown
	}
	return c
}

// KafkaWorkerInput is what NewKafkaWorker needs.
type KafkaWorkerInput struct {
	Config  KafkaConfig
	Store   warehouse.Store
	Decoder Decoder
	Metrics *KafkaMetrics // optional
	Log     *slog.Logger
}

// KafkaWorker consumes the configured topics as one member of a consumer
// group into the warehouse. Delivery is at least once from Kafka and
// effectively once in the warehouse: a batch's offsets are committed only
// after Store.Write accepted the batch, and whatever is redelivered after a
// crash is recognised by the store (event ids, dead-letter keys made of
// topic/partition/offset and the raw bytes).
type KafkaWorker struct {
	cfg     KafkaConfig
	store   warehouse.Store
	decoder Decoder
	metrics *KafkaMetrics
	log     *slog.Logger
	reader  *kafka.Reader
	total   warehouse.WriteResult // read after Run returns
	inHand  atomic.Int64          // messages fetched and not yet stored
	health  *healthState
}

// NewKafkaWorker prepares a worker; Run starts consuming.
func NewKafkaWorker(in KafkaWorkerInput) (*KafkaWorker, error) {
	if err := in.Config.Validate(); err != nil {
		return nil, fmt.Errorf("kafka ingest: %w", err)
	}
	if in.Store == nil {
		return nil, errors.New("kafka ingest: no store")
	}
	cfg := in.Config.withDefaults()
	log := in.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "kafka-ingest", "group", cfg.Group)
	health := newHealthState(func() time.Time { return time.Now().In(model.Shanghai) })
	return &KafkaWorker{
		cfg: cfg, store: in.Store, decoder: in.Decoder, metrics: in.Metrics, log: log,
		reader: kafka.NewReader(readerConfig(cfg, log, health)),
		health: health,
	}, nil
}

// readerConfig tunes kafka-go for low latency and explicit commits; the
// errors it logs while retrying by itself degrade health.
func readerConfig(cfg KafkaConfig, log *slog.Logger, health *healthState) kafka.ReaderConfig {
	return kafka.ReaderConfig{
		Brokers:     cfg.Brokers,
		GroupID:     cfg.Group,
		GroupTopics: cfg.Topics,
		// The broker answers a fetch as soon as it has one byte. kafka-go
		// asks it to hold an idle fetch for MaxWait minus an assumed 1 s
		// round trip and gives up reading at MaxWait: 1.25 s means a 250 ms
		// idle poll with 1 s of slack for a slow broker (250 ms left it 62 ms,
		// and a busy machine turned idle polls into i/o timeouts).
		MinBytes: 1,
		MaxBytes: 16 << 20,
		MaxWait:  1250 * time.Millisecond,
		// Enough prefetched messages to fill the next batch while one is written.
		QueueCapacity: cfg.BatchSize,
		// 0 makes CommitMessages synchronous: once it returns nil the offsets
		// are on the broker. We call it once per stored batch.
		CommitInterval:    0,
		StartOffset:       kafka.FirstOffset,
		SessionTimeout:    cfg.SessionTimeout,
		HeartbeatInterval: cfg.SessionTimeout / 4,
		RebalanceTimeout:  cfg.SessionTimeout,
		JoinGroupBackoff:  time.Second,
		ReadBackoffMin:    50 * time.Millisecond,
		ReadBackoffMax:    time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			detail := fmt.Sprintf(msg, args...)
			log.Warn("kafka", "detail", detail)
			health.trouble(detail)
		}),
	}
}

// Total sums the results of every stored batch. Call it after Run returned.
func (w *KafkaWorker) Total() warehouse.WriteResult { return w.total }

// InHand is the number of messages fetched and not yet stored.
func (w *KafkaWorker) InHand() int { return int(w.inHand.Load()) }

// Health says whether the worker is consuming, or retrying a failing broker
// or warehouse.
func (w *KafkaWorker) Health() Health { return w.health.get() }

// Run consumes until ctx ends. Neither a failing broker nor a failing
// warehouse ends it: fetches and writes are retried with backoff (see
// Health) for as long as it takes. When ctx ends it stores the batches in
// hand, commits them, leaves the group and returns nil; it returns an error
// only when that final write could not be done in ShutdownTimeout.
//
// Three stages overlap: fetching (kafka-go prefetches), collecting and
// decoding a batch, and writing and committing the previous one. One writer
// stores batches in fetch order, so a partition's commits never overtake its
// stored data.
func (w *KafkaWorker) Run(ctx context.Context) error {
	defer w.reader.Close()
	fetchCtx, stopFetch := context.WithCancel(ctx)
	defer stopFetch()
	defer w.health.stopped()
	msgs := make(chan kafka.Message, w.cfg.BatchSize)
	go w.fetch(fetchCtx, msgs)
	go w.watchBroker(fetchCtx, time.Second)

	// The writer outlives ctx by ShutdownTimeout, to store what is in hand.
	wctx, cancelWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrites()
	stopAfter := context.AfterFunc(ctx, func() { time.AfterFunc(w.cfg.ShutdownTimeout, cancelWrites) })
	defer stopAfter()
	ready := make(chan decodedBatch, 1)
	writerDone := make(chan struct{})
	var writeErr error
	go func() {
		defer close(writerDone)
		writeErr = w.writeLoop(wctx, ready)
	}()

	w.log.Info("consuming", "brokers", w.cfg.Brokers, "topics", w.cfg.Topics,
		"batch_size", w.cfg.BatchSize, "batch_interval", w.cfg.BatchInterval)
	w.collect(ctx, msgs, ready, writerDone)
	stopFetch()
	close(ready)
	<-writerDone
	if writeErr != nil {
		w.log.Warn("stopped with unstored messages; they will be redelivered", "err", writeErr)
	}
	return writeErr
}

// decodedBatch is a closed batch on its way to the writer.
type decodedBatch struct {
	batch    warehouse.Batch
	messages int
	last     map[partitionKey]kafka.Message
	decoded  time.Time
}

// collect closes batches by count and by time and hands them, decoded, to
// the writer, until ctx ends (the batch in hand is handed over) or the
// writer stops (only when its shutdown time ran out).
func (w *KafkaWorker) collect(ctx context.Context, msgs <-chan kafka.Message, ready chan<- decodedBatch, writerDone <-chan struct{}) {
	batch := make([]kafka.Message, 0, w.cfg.BatchSize)
	timer := time.NewTimer(w.cfg.BatchInterval)
	timer.Stop()
	for stopping := false; !stopping; {
		select {
		case m := <-msgs:
			batch = append(batch, m)
			w.inHand.Store(int64(len(batch)))
			if len(batch) == 1 {
				timer.Reset(w.cfg.BatchInterval)
			}
			if len(batch) < w.cfg.BatchSize {
				continue
			}
		case <-timer.C:
		case <-writerDone:
			return // the writer reports its own error
		case <-ctx.Done():
			stopping = true
		}
		timer.Stop()
		if len(batch) == 0 {
			continue
		}
		select {
		case ready <- w.decode(batch):
		case <-writerDone:
			return
		}
		batch = make([]kafka.Message, 0, w.cfg.BatchSize)
		w.inHand.Store(0)
	}
}

func (w *KafkaWorker) decode(msgs []kafka.Message) decodedBatch {
	return decodedBatch{batch: DecodeMessages(w.decoder, msgs), messages: len(msgs),
		last: lastPerPartition(msgs), decoded: time.Now()}
}

// fetch feeds msgs until ctx ends. A failed fetch (broker unreachable,
// coordinator moved, rebalance) is logged, counted and retried after a
// backoff: kafka-go's reader keeps reconnecting by itself and hands out
// messages again once the broker answers, from the committed offsets, so
// nothing is skipped.
func (w *KafkaWorker) fetch(ctx context.Context, msgs chan<- kafka.Message) {
	wait := newBackoff(w.cfg.MaxBackoff)
	for {
		m, err := w.reader.FetchMessage(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.health.fetch(err)
			w.metrics.fetchFailed()
			d := wait.next()
			w.log.Warn("kafka fetch failed; retrying", "retry_in", d, "err", err)
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		if wait.failures > 0 {
			w.log.Info("kafka fetch succeeded after retries", "attempts", wait.failures+1)
			wait.reset()
			w.health.brokerAnswered()
		}
		select {
		case msgs <- m:
		case <-ctx.Done():
			return
		}
	}
}

// brokerQuietTicks is how many probes without a logged error clear the
// broker's failure when the reader fetched nothing meanwhile (a member with
// no partitions assigned never fetches).
const brokerQuietTicks = 10

// watchBroker probes every interval until ctx ends. While the broker is
// down FetchMessage returns no error: kafka-go retries by itself and logs
// (see readerConfig, which degrades health). A probe interval in which
// nothing was logged and the reader fetched from a partition leader (an
// idle poll counts) means the broker answers again; so do
// brokerQuietTicks intervals with nothing logged.
func (w *KafkaWorker) watchBroker(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	troubles, quiet := w.health.troubleCount(), 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fetched := w.reader.Stats().Fetches > 0
		if n := w.health.troubleCount(); n != troubles {
			troubles, quiet = n, 0
			continue
		}
		quiet++
		if fetched || quiet >= brokerQuietTicks {
			w.health.brokerAnswered()
		}
	}
}

// backoff is a doubling wait: 100 ms, 200 ms, … up to a cap.
type backoff struct {
	wait, cap time.Duration
	failures  int
}

func newBackoff(cap time.Duration) backoff { return backoff{wait: 100 * time.Millisecond, cap: cap} }

func (b *backoff) next() time.Duration {
	d := min(b.wait, b.cap)
	b.wait = min(b.wait*2, b.cap)
	b.failures++
	return d
}

func (b *backoff) reset() { *b = newBackoff(b.cap) }

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// writeLoop stores and commits batches in order until ready is closed or
// ctx ends. Offsets whose commit failed stay pending: they go out with the
// next batch's commit, or on their own after BatchInterval when no batch
// comes, so a partition that has gone quiet still gets its stored data
// committed.
func (w *KafkaWorker) writeLoop(ctx context.Context, ready <-chan decodedBatch) error {
	pending := map[partitionKey]kafka.Message{}
	retry := time.NewTicker(max(w.cfg.BatchInterval, 250*time.Millisecond))
	defer retry.Stop()
	for {
		select {
		case b, ok := <-ready:
			if !ok {
				if len(pending) > 0 {
					return w.commit(ctx, pending)
				}
				return nil
			}
			if err := w.storeBatch(ctx, b, pending); err != nil {
				return err // the collector sees writerDone; unstored batches are redelivered
			}
		case <-retry.C:
			if len(pending) > 0 {
				if err := w.commit(ctx, pending); err != nil {
					return err
				}
			}
		}
	}
}

// storeBatch writes a batch, retrying while the warehouse fails, and only then
// commits its offsets together with any still pending.
func (w *KafkaWorker) storeBatch(ctx context.Context, b decodedBatch, pending map[partitionKey]kafka.Message) error {
	start := time.Now()
	res, err := w.writeWithRetry(ctx, b.batch)
	if err != nil {
		return err
	}
	written := time.Now()
	w.total = w.total.Add(res)
	w.metrics.observeBatch(b.messages, res, written.Sub(start).Seconds())
	for p, m := range b.last {
		w.metrics.observeLag(p, max(m.HighWaterMark-m.Offset-1, 0))
		if cur, ok := pending[p]; !ok || m.Offset > cur.Offset {
			pending[p] = m
		}
	}
	if err := w.commit(ctx, pending); err != nil {
		return err
	}
	w.log.Debug("batch stored", "messages", b.messages, "stored", res.Stored, "duplicates", res.Duplicates,
		"dead_lettered", res.DeadLettered, "queued", start.Sub(b.decoded), "write", written.Sub(start),
		"commit", time.Since(written))
	return nil
}

// writeWithRetry writes b until the warehouse accepts it or ctx ends,
// waiting 100 ms, 200 ms, … up to MaxBackoff between attempts.
func (w *KafkaWorker) writeWithRetry(ctx context.Context, b warehouse.Batch) (warehouse.WriteResult, error) {
	wait := newBackoff(w.cfg.MaxBackoff)
	for {
		res, err := w.store.Write(ctx, b)
		w.health.write(err)
		if err == nil {
			if wait.failures > 0 {
				w.log.Info("warehouse write succeeded after retries", "attempts", wait.failures+1)
			}
			return res, nil
		}
		w.metrics.writeFailed()
		if ctx.Err() != nil {
			return res, fmt.Errorf("write batch: %w", err)
		}
		d := wait.next()
		w.log.Warn("warehouse write failed; retrying", "attempt", wait.failures, "retry_in", d, "err", err)
		if !sleep(ctx, d) {
			return res, fmt.Errorf("write batch: %w", errors.Join(err, ctx.Err()))
		}
	}
}

// commit commits the pending offsets (the last stored message of each
// partition) and forgets them once the broker has them. A failed commit (a
// rebalance, a slow coordinator) is logged, not fatal: the data is stored, so
// the offsets stay pending and are retried; if the partition has moved to
// another member meanwhile, a late commit can at worst make it redeliver
// what is already stored, which the store recognises.
func (w *KafkaWorker) commit(ctx context.Context, pending map[partitionKey]kafka.Message) error {
	ms := make([]kafka.Message, 0, len(pending))
	for _, m := range pending {
		ms = append(ms, m)
	}
	err := w.reader.CommitMessages(ctx, ms...)
	if err == nil {
		clear(pending)
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("commit: %w", err)
	}
	w.metrics.commitFailed()
	w.log.Warn("commit failed; retrying with the next batch", "partitions", len(ms), "err", err)
	return nil
}

type partitionKey struct {
	topic     string
	partition int
}

// lastPerPartition keeps the highest-offset message of each partition.
func lastPerPartition(msgs []kafka.Message) map[partitionKey]kafka.Message {
	last := make(map[partitionKey]kafka.Message, 8)
	for _, m := range msgs {
		k := partitionKey{m.Topic, m.Partition}
		if cur, ok := last[k]; !ok || m.Offset > cur.Offset {
			last[k] = m
		}
	}
	return last
}

// KafkaOrigin is where a message came from, as recorded on its event or dead
// letter: kind "kafka", the topic, and "partition/offset".
func KafkaOrigin(m kafka.Message) model.Origin {
	return model.Origin{Kind: "kafka", Name: m.Topic,
		Position: strconv.Itoa(m.Partition) + "/" + strconv.FormatInt(m.Offset, 10)}
}

// decodeChunk is the number of messages below which decoding stays on one
// goroutine; starting more costs more than it saves.
const decodeChunk = 1024

// DecodeMessages decodes a batch through d, in parallel for large batches,
// keeping message order within items and within dead letters.
func DecodeMessages(d Decoder, msgs []kafka.Message) warehouse.Batch {
	workers := min(runtime.GOMAXPROCS(0), (len(msgs)+decodeChunk-1)/decodeChunk)
	if workers <= 1 {
		return decodeRange(d, msgs)
	}
	parts := make([]warehouse.Batch, workers)
	per := (len(msgs) + workers - 1) / workers
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := i*per, min((i+1)*per, len(msgs))
		wg.Go(func() { parts[i] = decodeRange(d, msgs[lo:hi]) })
	}
	wg.Wait()
	b := warehouse.Batch{Items: make([]warehouse.Item, 0, len(msgs))}
	for _, p := range parts {
		b.Items = append(b.Items, p.Items...)
		b.DeadLetters = append(b.DeadLetters, p.DeadLetters...)
	}
	return b
}

func decodeRange(d Decoder, msgs []kafka.Message) warehouse.Batch {
	b := warehouse.Batch{Items: make([]warehouse.Item, 0, len(msgs))}
	for _, m := range msgs {
		it, dl := d.Decode(m.Value, KafkaOrigin(m))
		if dl != nil {
			b.DeadLetters = append(b.DeadLetters, *dl)
			continue
		}
		b.Items = append(b.Items, it)
	}
	return b
}
