package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
)

func TestConfigLayers(t *testing.T) {
	// Given a YAML file, env and flags, later layers win key by key, and a
	// command's own flags that share a section name are not settings.
	file := filepath.Join(t.TempDir(), "q.yaml")
	yaml := "warehouse: duckdb://from-file.duckdb\nlisten: \":1\"\nkafka:\n  brokers: [a:1]\n  group: g-file\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("QCREDIT_CONFIG", file)
	t.Setenv("QCREDIT_LISTEN", ":2")
	t.Setenv("QCREDIT_KAFKA_BROKERS", "b:1, c:2,")
	t.Setenv("QCREDIT_USCC_ACCEPT_CHECK_FAILURES", "true")
	flags := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.String("config", "", "")
	flags.String("listen", "", "")
	flags.String("kafka", "", "a command's own flag")
	if err := flags.Parse([]string{"--listen", ":3", "--kafka", "x:9"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(flags)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Warehouse != "duckdb://from-file.duckdb" || cfg.Listen != ":3" || cfg.Kafka.Group != "g-file" ||
		len(cfg.Kafka.Brokers) != 2 || cfg.Kafka.Brokers[1] != "c:2" || !cfg.USCC.AcceptCheckFailures ||
		cfg.Log.Level != "info" || cfg.Kafka.Topics[0] != "qcredit.events" {
		t.Errorf("got %+v", cfg)
	}
}

func TestEmptyBrokerListMeansNoBrokers(t *testing.T) {
	t.Setenv("QCREDIT_KAFKA_BROKERS", "")
	flags := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.String("config", "", "")
	cfg, err := loadConfig(flags)
	if err != nil || len(cfg.Kafka.Brokers) != 0 {
		t.Fatalf("brokers %q, err %v", cfg.Kafka.Brokers, err)
	}
}
