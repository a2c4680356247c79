package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcredit/qcredit/warehouse"
)

// KafkaMetrics are the Kafka worker's Prometheus metrics. A nil
// *KafkaMetrics records nothing, so tests and benchmarks may leave it out.
type KafkaMetrics struct {
	consumed     prometheus.Counter
	stored       prometheus.Counter
	duplicates   prometheus.Counter
	deadLettered prometheus.Counter
	writeErrors  prometheus.Counter
	fetchErrors  prometheus.Counter
	commitErrors prometheus.Counter
	batchSize    prometheus.Histogram
	writeSeconds prometheus.Histogram
	lag          *prometheus.GaugeVec
}

// NewKafkaMetrics registers the worker's metrics on reg.
func NewKafkaMetrics(reg prometheus.Registerer) (*KafkaMetrics, error) {
	m := &KafkaMetrics{
		consumed: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_ingest_kafka_consumed_total",
			Help: "Kafka messages fetched and handed to a batch."}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_ingest_kafka_stored_total",
			Help: "Events newly stored from Kafka."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_ingest_kafka_duplicates_total",
			Help: "Exact resends of events already stored (redeliveries included)."}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_ingest_kafka_dead_lettered_total",
			Help: "Dead letters newly stored from Kafka (conflicts included)."}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_ingest_kafka_write_errors_total",
			Help: "Failed warehouse writes; each is retried with backoff."}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_ingest_kafka_fetch_errors_total",
			Help: "Failed fetches (broker unreachable, coordinator moved, rebalance); each is retried with backoff."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "qcredit_ingest_kafka_commit_errors_total",
			Help: "Failed offset commits of stored batches; their offsets are retried with the next commit."}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qcredit_ingest_kafka_batch_messages",
			Help: "Messages per warehouse write.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qcredit_ingest_kafka_write_seconds",
			Help: "Time to store one batch, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 3, 12)}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "qcredit_ingest_kafka_lag_messages",
			Help: "Messages behind the partition's high-water mark, as of the last batch."}, []string{"topic", "partition"}),
	}
	for _, c := range []prometheus.Collector{m.consumed, m.stored, m.duplicates, m.deadLettered,
		m.writeErrors, m.fetchErrors, m.commitErrors, m.batchSize, m.writeSeconds, m.lag} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *KafkaMetrics) observeBatch(n int, res warehouse.WriteResult, seconds float64) {
	if m == nil {
		return
	}
	m.consumed.Add(float64(n))
	m.stored.Add(float64(res.Stored))
	m.duplicates.Add(float64(res.Duplicates))
	m.deadLettered.Add(float64(res.DeadLettered))
	m.batchSize.Observe(float64(n))
	m.writeSeconds.Observe(seconds)
}

func (m *KafkaMetrics) observeLag(p partitionKey, lag int64) {
	if m == nil {
		return
	}
	m.lag.WithLabelValues(p.topic, strconv.Itoa(p.partition)).Set(float64(lag))
}

func (m *KafkaMetrics) writeFailed() {
	if m != nil {
		m.writeErrors.Inc()
	}
}

func (m *KafkaMetrics) fetchFailed() {
	if m != nil {
		m.fetchErrors.Inc()
	}
}

func (m *KafkaMetrics) commitFailed() {
	if m != nil {
		m.commitErrors.Inc()
	}
}
