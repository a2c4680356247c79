package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/qcredit/qcredit/model"
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
	cfg, _, err := loadConfig(flags)
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
	cfg, _, err := loadConfig(flags)
	if err != nil || len(cfg.Kafka.Brokers) != 0 {
		t.Fatalf("brokers %q, err %v", cfg.Kafka.Brokers, err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigRefusesUnknownKeysAndBadValues(t *testing.T) {
	// Given a setting typed wrong in a file, the environment or a flag,
	// when any command starts, then it stops naming the key and what is allowed.
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		args []string
		want []string
	}{
		{name: "top-level typo", yaml: "warehous: duckdb://x.duckdb\n", want: []string{"unknown key warehous", "warehouse"}},
		{name: "typo in a section", yaml: "kafka:\n  broker: [a:1]\n", want: []string{"unknown key kafka.broker", "kafka.brokers, kafka.group, kafka.topics"}},
		{name: "a scalar where a section was", yaml: "log: debug\n", want: []string{"log is a section", "log.format, log.level"}},
		{name: "log format", env: map[string]string{"QCREDIT_LOG_FORMAT": "xml"}, want: []string{"log.format", `"xml"`, "text, json"}},
		{name: "log level flag", args: []string{"--log-level", "verbose"}, want: []string{"log.level", "debug, info, warn, error"}},
		{name: "number", env: map[string]string{"QCREDIT_INGEST_BATCH_SIZE": "abc"}, want: []string{"ingest.batch_size", "whole number"}},
		{name: "zero", yaml: "ingest:\n  batch_size: 0\n", want: []string{"ingest.batch_size", "more than 0"}},
		{name: "duration", env: map[string]string{"QCREDIT_INGEST_BATCH_INTERVAL": "1x"}, want: []string{"ingest.batch_interval", "duration"}},
		{name: "duration without unit", yaml: "ingest:\n  future_tolerance: 24\n", want: []string{"ingest.future_tolerance", "duration"}},
		{name: "bool", env: map[string]string{"QCREDIT_USCC_ACCEPT_CHECK_FAILURES": "maybe"}, want: []string{"uscc.accept_check_failures", "true or false"}},
		{name: "warehouse scheme", env: map[string]string{"QCREDIT_WAREHOUSE": "postgres://db"}, want: []string{"warehouse", "duckdb://PATH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.yaml != "" {
				t.Setenv("QCREDIT_CONFIG", writeFile(t, "q.yaml", tt.yaml))
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			out, err := run(t, "", append(tt.args, "uscc", "check", "91110000600037341L")...)
			if err == nil {
				t.Fatalf("the command ran: %s", out)
			}
			if _, ok := err.(exitError); ok {
				t.Fatalf("want a configuration error (exit 2), got %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestUnknownEnvironmentVariableIsWarnedAbout(t *testing.T) {
	t.Setenv("QCREDIT_LOG_LEVL", "debug")
	t.Setenv("QCREDIT_TEST_SOMETHING", "x")
	flags := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.String("config", "", "")
	_, warnings, err := loadConfig(flags)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "QCREDIT_LOG_LEVL") || !strings.Contains(warnings[0], "QCREDIT_LOG_LEVEL") {
		t.Errorf("warnings %q, want one naming QCREDIT_LOG_LEVL and the real settings", warnings)
	}
}

func TestOldFlagSpellingStillWorks(t *testing.T) {
	// --uscc-accept_check_failures is the deprecated spelling of
	// --uscc-accept-check-failures: it still accepts a pilot code.
	valid := string(model.CompleteUSCC("91350211M0000XUN"))
	pilot := valid[:17] + "0" // fails the mod-31 check only
	if valid[17] == '0' {
		pilot = valid[:17] + "1"
	}
	for _, flag := range []string{"--uscc-accept-check-failures", "--uscc-accept_check_failures"} {
		out, err := run(t, "", flag, "uscc", "check", pilot)
		if err != nil || !strings.Contains(out, "\tok") {
			t.Errorf("%s: %v\n%s", flag, err, out)
		}
	}
}

func TestREADMEConfigExampleLoads(t *testing.T) {
	// The YAML example in the README's configuration section is valid.
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n# qcredit.yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no ```yaml # qcredit.yaml example")
	}
	t.Setenv("QCREDIT_CONFIG", writeFile(t, "qcredit.yaml", example))
	flags := pflag.NewFlagSet("t", pflag.ContinueOnError)
	flags.String("config", "", "")
	if _, _, err := loadConfig(flags); err != nil {
		t.Fatalf("the README's example: %v", err)
	}
}

func TestSchedulesAreAMapSetting(t *testing.T) {
	// Given a YAML file overriding a job's schedule, then it loads; a key
	// typed wrong next to it still stops the command.
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("scheduler:\n  enabled: false\n  schedules:\n    score: \"*/6 * * * * *\"\n"), 0o644)
	t.Setenv("QCREDIT_CONFIG", good)
	cfg, _, err := loadConfig(newRootCmd().PersistentFlags())
	if err != nil || cfg.Scheduler.Schedules["score"] != "*/6 * * * * *" || cfg.Scheduler.Enabled {
		t.Fatalf("config %+v, %v", cfg.Scheduler, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("scheduler:\n  schedule:\n    score: \"0 3 * * *\"\n"), 0o644)
	t.Setenv("QCREDIT_CONFIG", bad)
	if _, _, err := loadConfig(newRootCmd().PersistentFlags()); err == nil || !strings.Contains(err.Error(), "unknown key scheduler.schedule.score") {
		t.Errorf("a typo under scheduler: %v", err)
	}
}
