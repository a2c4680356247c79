package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

func newBrokerCmd(a *app) *cobra.Command {
	var listen string
	var partitions int
	var topics []string
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run an in-memory Kafka-protocol broker for development (not for production)",
		Long: `Runs franz-go's kfake, an in-process Kafka-protocol broker, alone: for trying
qcredit ingest, kcat or other Kafka tools on one machine with nothing installed.
It keeps everything in memory and loses it on exit. It is for development only;
production uses a real Apache Kafka cluster.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := startDevBroker(listen, partitions, topics)
			if err != nil {
				return err
			}
			defer c.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "in-memory Kafka broker (development only) listening on %s; topics are created on first use with %d partitions\n",
				c.ListenAddrs()[0], partitions)
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9092", "address to listen on; it is also the address advertised to clients")
	cmd.Flags().IntVar(&partitions, "partitions", 4, "partitions of topics created on first use")
	cmd.Flags().StringSliceVar(&topics, "topic", nil, "topics to create at start (repeatable)")
	return cmd
}

// startDevBroker starts kfake as one broker on addr. kfake advertises the
// address it listens on, so addr must be one clients can dial.
func startDevBroker(addr string, partitions int, topics []string) (*kfake.Cluster, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("broker address %q: %w", addr, err)
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("broker port %q: %w", port, err)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(p),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, port))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(partitions),
		kfake.GroupMinSessionTimeout(time.Second),
	}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(partitions), topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start in-memory broker on %s: %w", addr, err)
	}
	return c, nil
}

// devBrokerAddr is where `qcredit dev` runs its in-memory broker.
const devBrokerAddr = "localhost:9092"

// withDevKafka runs fn with an in-memory broker on addr, simulated
// bureaus publishing a few events a second to it, and the real ingest worker
// consuming them into s, so `qcredit dev` shows the whole path.
func (a *app) withDevKafka(ctx context.Context, addr string, s backend, reg prometheus.Registerer, fn func(context.Context, func() ingest.Health) error) error {
	c, err := startDevBroker(addr, 4, a.cfg.Kafka.Topics)
	if err != nil {
		return err
	}
	defer c.Close()
	a.cfg.Kafka.Brokers = c.ListenAddrs()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go a.trickle(ctx, s, c.ListenAddrs(), a.cfg.Kafka.Topics[0], time.Second/3)
	return a.alongsideKafkaIngest(ctx, s, reg, fn)
}

// trickle stands in for the county bureaus: every interval it publishes
// what bureaus report (simulate.Live) about the warehouse's enterprises, at
// the current time, until ctx ends.
func (a *app) trickle(ctx context.Context, s backend, brokers []string, topic string, every time.Duration) {
	var firms []simulate.LiveFirm
	err := s.Enterprises(ctx, func(e model.Enterprise) error {
		if !e.Deregistered {
			firms = append(firms, simulate.LiveFirm{USCC: string(e.USCC), Region: e.Region, Industry: e.Industry})
		}
		return nil
	})
	if err != nil {
		a.log.Warn("dev bureaus: cannot list enterprises; reporting new ones only", "err", err)
	}
	start := time.Now()
	live := simulate.NewLive(start.UnixNano(), strconv.FormatInt(start.Unix(), 36), firms)
	p := ingest.NewPublisher(brokers, topic)
	defer p.Close()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			key, value := live.Next(now)
			if err := p.Publish(ctx, ingest.Message{Key: key, Value: value}); err != nil && ctx.Err() == nil {
				a.log.Warn("dev bureau: publish failed", "err", err)
			}
		}
	}
}
