package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/simulate"
)

// simulateFlags are the simulate command's options.
type simulateFlags struct {
	cfg          simulate.Config
	end, out     string
	truth, topic string
	brokers      []string
	quiet        bool
}

func newSimulateCmd(a *app) *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Generate realistic synthetic Huai'an supervision data",
		Long: `Generate v1 events for simulated Huai'an enterprises as JSONL (one event per line) or
publish them to Kafka (key = USCC). The same flags always give the same bytes.
Say where they go: --out FILE, --out - for stdout (20,000 enterprises are
about 90 MB), or --brokers. --truth writes the planted ground truth (bad
enterprises, rising clusters, exact line counts). A progress bar is drawn on
stderr when it is a terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case f.out == "" && len(f.brokers) == 0:
				return errors.New("simulate: say where the events go: --out FILE, --out - for stdout, or --brokers HOST:PORT")
			case f.out != "" && len(f.brokers) > 0:
				return errors.New("simulate: --out and --brokers exclude each other: write a file or publish, not both")
			}
			return runSimulate(cmd.Context(), f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.cfg.Enterprises, "enterprises", 20000, "enterprises to simulate")
	fl.IntVar(&f.cfg.Years, "years", 3, "years of history ending at --end")
	fl.Int64Var(&f.cfg.Seed, "seed", 1, "seed; the same flags give the same output")
	fl.Float64Var(&f.cfg.BadRate, "bad-rate", 0, "share of malformed lines, resends and id conflicts mixed in (0–0.5)")
	fl.IntVar(&f.cfg.Events, "events", 0, "size the run to exactly this many lines (overrides --enterprises)")
	fl.IntVar(&f.cfg.Limit, "limit", 0, "stop after this many lines")
	fl.StringVar(&f.end, "end", "", "last simulated day, YYYY-MM-DD (default today, Asia/Shanghai): the same seed and end give the same city on any day")
	fl.StringVarP(&f.out, "out", "o", "", "JSONL file to write, - for stdout")
	fl.StringVar(&f.truth, "truth", "", "write the planted ground truth as JSON to this file")
	fl.StringSliceVar(&f.brokers, "brokers", nil, "publish to these Kafka brokers (comma-separated) instead of writing a file")
	deprecatedAlias(fl, "kafka", "brokers")
	fl.StringVar(&f.topic, "topic", "qcredit.events", "Kafka topic for --brokers")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

func runSimulate(ctx context.Context, f simulateFlags, stdout io.Writer) error {
	y, m, d := time.Now().In(model.Shanghai).Date()
	end := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if f.end != "" {
		t, err := time.Parse(time.DateOnly, f.end)
		if err != nil {
			return fmt.Errorf("simulate: --end %q is not a date like 2026-06-30", f.end)
		}
		end = t
	}
	f.cfg.End = end
	plan, err := simulate.NewPlan(f.cfg)
	if err != nil {
		return err
	}
	sink, err := openSink(f, stdout)
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if !f.quiet && f.out != "-" && term.IsTerminal(int(os.Stderr.Fd())) {
		bar = progressbar.NewOptions(plan.Lines(), progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription("simulate"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	n := 0
	truth, err := plan.Stream(func(l simulate.Line) error {
		if n++; bar != nil && n%10000 == 0 {
			bar.Set(n)
		}
		return sink.write(ctx, l)
	})
	err = errors.Join(err, sink.close(ctx))
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	return writeTruth(f.truth, truth)
}

func writeTruth(path string, t simulate.Truth) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode truth: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}

// simSink is where simulated lines go: a JSONL file or a Kafka topic.
type simSink interface {
	write(ctx context.Context, l simulate.Line) error
	close(ctx context.Context) error
}

func openSink(f simulateFlags, stdout io.Writer) (simSink, error) {
	if len(f.brokers) > 0 {
		return &kafkaSink{pub: ingest.NewPublisher(f.brokers, f.topic)}, nil
	}
	if f.out == "-" {
		return &fileSink{w: bufio.NewWriterSize(stdout, 1<<20)}, nil
	}
	file, err := os.Create(f.out)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return &fileSink{w: bufio.NewWriterSize(file, 1<<20), c: file}, nil
}

// fileSink writes JSONL.
type fileSink struct {
	w *bufio.Writer
	c io.Closer // nil for stdout
}

func (s *fileSink) write(_ context.Context, l simulate.Line) error {
	s.w.Write(l.Value)
	return s.w.WriteByte('\n')
}

func (s *fileSink) close(context.Context) error {
	err := s.w.Flush()
	if s.c != nil {
		err = errors.Join(err, s.c.Close())
	}
	return err
}

// kafkaBatch is how many messages go to the broker per Publish call.
const kafkaBatch = 1000

// kafkaSink publishes in batches, copying each line since the simulator
// reuses its buffer.
type kafkaSink struct {
	pub   *ingest.Publisher
	batch []ingest.Message
}

func (s *kafkaSink) write(ctx context.Context, l simulate.Line) error {
	s.batch = append(s.batch, ingest.Message{Key: append([]byte(nil), l.Key...), Value: append([]byte(nil), l.Value...)})
	if len(s.batch) < kafkaBatch {
		return nil
	}
	return s.flush(ctx)
}

func (s *kafkaSink) flush(ctx context.Context) error {
	if len(s.batch) == 0 {
		return nil
	}
	err := s.pub.Publish(ctx, s.batch...)
	s.batch = s.batch[:0]
	return err
}

func (s *kafkaSink) close(ctx context.Context) error {
	return errors.Join(s.flush(ctx), s.pub.Close())
}
