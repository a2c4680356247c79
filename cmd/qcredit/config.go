package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// Config is every setting, read in this order, later ones winning: defaults,
// the YAML file (--config or QCREDIT_CONFIG), QCREDIT_* environment variables,
// then flags. Keys nest with dots in YAML (kafka.brokers) and with the first
// underscore in env (QCREDIT_KAFKA_BROKERS).
type Config struct {
	Warehouse string          `koanf:"warehouse"`
	Listen    string          `koanf:"listen"`
	Log       LogConfig       `koanf:"log"`
	Kafka     KafkaConfig     `koanf:"kafka"`
	USCC      USCCConfig      `koanf:"uscc"`
	Ingest    IngestConfig    `koanf:"ingest"`
	Scoring   ScoringConfig   `koanf:"scoring"`
	Lists     ListsConfig     `koanf:"lists"`
	Scheduler SchedulerConfig `koanf:"scheduler"`
	Serving   ServingConfig   `koanf:"serving"`
	API       APIConfig       `koanf:"api"`
}

// APIConfig tunes the API: keys, the public routes' rate limit, proxies.
type APIConfig struct {
	// KeyRefresh is how often keys are reloaded from the warehouse.
	KeyRefresh time.Duration `koanf:"key_refresh"`
	// PublicRate and PublicBurst limit public routes per client address.
	PublicRate  float64 `koanf:"public_rate"`
	PublicBurst int     `koanf:"public_burst"`
	// TrustedProxies may name the client in X-Forwarded-For.
	TrustedProxies []string `koanf:"trusted_proxies"`
}

// SchedulerConfig says whether this process schedules jobs and when.
type SchedulerConfig struct {
	// Enabled false keeps this replica from running scheduled jobs (others
	// on the same warehouse still do; each slot runs once either way).
	Enabled bool `koanf:"enabled"`
	// Schedules override jobs' schedules: a cron spec, "after JOB" or "off".
	Schedules map[string]string `koanf:"schedules"`
}

// ServingConfig tunes the read model.
type ServingConfig struct {
	// Refresh is how often the current run versions are checked.
	Refresh time.Duration `koanf:"refresh"`
}

type LogConfig struct {
	Level  string `koanf:"level"`  // debug, info, warn, error
	Format string `koanf:"format"` // text or json
}

type KafkaConfig struct {
	Brokers []string `koanf:"brokers"`
	Topics  []string `koanf:"topics"`
	Group   string   `koanf:"group"`
}

type USCCConfig struct {
	// AcceptCheckFailures accepts lawfully issued pilot codes that fail the mod-31 check.
	AcceptCheckFailures bool `koanf:"accept_check_failures"`
}

type IngestConfig struct {
	BatchSize     int           `koanf:"batch_size"`
	BatchInterval time.Duration `koanf:"batch_interval"`
	// MaxBackoff caps the wait between retries of a failing broker or warehouse.
	MaxBackoff time.Duration `koanf:"max_backoff"`
	// Listen is where `qcredit ingest` serves /metrics, /healthz and /readyz ("off": nowhere).
	Listen string `koanf:"listen"`
}

// defaults names every configuration key; flags and env only set keys listed here.
// ScoringConfig says which scorecard the score job uses.
type ScoringConfig struct {
	// File is a scorecard YAML (see scoring/default.yaml); empty = the embedded default.
	File string `koanf:"file"`
}

// ListsConfig says which listing rules the score and lists jobs use and how
// long published list versions are served.
type ListsConfig struct {
	// File is a listing rules YAML (see lists/default.yaml); empty = the embedded default.
	File string `koanf:"file"`
	// Retention is how far back versions are served (snapshots, changes
	// since, check as_of): versions published within it, and the one in
	// force at its start.
	Retention time.Duration `koanf:"retention"`
}

var defaults = map[string]any{
	"warehouse":                  "duckdb://data/qcredit.duckdb",
	"listen":                     ":8080",
	"log.level":                  "info",
	"log.format":                 "text",
	"kafka.brokers":              []string{},
	"uscc.accept_check_failures": false,
	"scoring.file":               "",
	"lists.file":                 "",
	"lists.retention":            "8784h",
	"kafka.topics":               []string{"qcredit.events"},
	"kafka.group":                "qcredit-ingest",
	"ingest.batch_size":          50_000,
	"ingest.batch_interval":      "1s",
	"ingest.max_backoff":         "30s",
	"ingest.listen":              ":9091",
	"scheduler.enabled":          true,
	"serving.refresh":            "5s",
	"api.key_refresh":            "2s",
	"api.public_rate":            10.0,
	"api.public_burst":           50,
	"api.trusted_proxies":        []string{},
}

// configSections are the nested keys; env and flag names split after them.
var configSections = []string{"log", "kafka", "uscc", "ingest", "scoring", "lists", "scheduler", "serving", "api"}

func splitSection(name, sep string) string {
	for _, s := range configSections {
		if strings.HasPrefix(name, s+sep) {
			return s + "." + strings.TrimPrefix(name, s+sep)
		}
	}
	return name
}

func loadConfig(flags *pflag.FlagSet) (Config, error) {
	k := koanf.New(".")
	var cfg Config
	if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return cfg, err
	}
	path, _ := flags.GetString("config")
	if path == "" {
		path = os.Getenv("QCREDIT_CONFIG")
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return cfg, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	err := k.Load(env.Provider(".", env.Opt{
		Prefix: "QCREDIT_",
		TransformFunc: func(key, v string) (string, any) {
			key = splitSection(strings.ToLower(strings.TrimPrefix(key, "QCREDIT_")), "_")
			if strings.HasSuffix(key, "brokers") || strings.HasSuffix(key, "topics") || strings.HasSuffix(key, "proxies") {
				return key, splitList(v)
			}
			return key, v
		},
	}), nil)
	if err != nil {
		return cfg, fmt.Errorf("environment: %w", err)
	}
	err = k.Load(posflag.ProviderWithFlag(flags, ".", k, func(f *pflag.Flag) (string, any) {
		key := splitSection(f.Name, "-")
		if _, setting := defaults[key]; !f.Changed || !setting { // a command's own flag
			return "", nil
		}
		return key, posflag.FlagVal(flags, f)
	}), nil)
	if err != nil {
		return cfg, fmt.Errorf("flags: %w", err)
	}
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// splitList reads a comma-separated env value; empty items are dropped, so
// QCREDIT_KAFKA_BROKERS= means no brokers.
func splitList(v string) []string {
	out := []string{}
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
