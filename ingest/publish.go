package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Publisher sends events to Kafka, keyed by USCC so each enterprise's events
// stay in one partition, in order.
type Publisher struct {
	w *kafka.Writer
}

// NewPublisher writes to topic on brokers. Batches go out after 1,000
// messages or 5 ms, whichever comes first (kafka-go's 1 s default would make
// every synchronous write wait a second).
func NewPublisher(brokers []string, topic string) *Publisher {
	return &Publisher{w: &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Topic:                  topic,
		Balancer:               &kafka.Hash{},
		BatchSize:              1000,
		BatchTimeout:           5 * time.Millisecond,
		RequiredAcks:           kafka.RequireAll,
		AllowAutoTopicCreation: true,
	}}
}

// Message is one event to publish.
type Message struct {
	Key   []byte // the USCC
	Value []byte // one v1 event as JSON
}

// Publish sends messages and returns once the broker acknowledged them all.
func (p *Publisher) Publish(ctx context.Context, msgs ...Message) error {
	km := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafka.Message{Key: m.Key, Value: m.Value}
	}
	if err := p.w.WriteMessages(ctx, km...); err != nil {
		return fmt.Errorf("publish %d messages to %s: %w", len(msgs), p.w.Topic, err)
	}
	return nil
}

// Close flushes and closes the writer.
func (p *Publisher) Close() error { return p.w.Close() }
