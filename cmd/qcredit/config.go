package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/serving"
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
	Clusters  ClustersConfig  `koanf:"clusters"`
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
	// PenaltyMonths* are how long a penalty of each severity is published
	// (公示期) from its decision; defaults: serving.DefaultPenaltyPeriods.
	PenaltyMonthsLight   int `koanf:"penalty_months_light"`
	PenaltyMonthsGeneral int `koanf:"penalty_months_general"`
	PenaltyMonthsHeavy   int `koanf:"penalty_months_heavy"`
}

type LogConfig struct {
	Level  string `koanf:"level"`  // one of logLevels
	Format string `koanf:"format"` // one of logFormats
}

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

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
	// FutureTolerance is how far in the future an event's occurred_at may lie.
	FutureTolerance time.Duration `koanf:"future_tolerance"`
}

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

// ClustersConfig says which cluster method the clusters job uses and what
// prints its warning letters to PDF.
type ClustersConfig struct {
	// File is a cluster method YAML (see clusters/default.yaml); empty = the embedded default.
	File string `koanf:"file"`
	// Chromium prints letters to PDF: a path, "" for chromium on PATH, or "off".
	Chromium string `koanf:"chromium"`
}

// defaults names every configuration key: a key not here is refused in the
// YAML file, warned about in the environment, and not read from flags. The
// type of each default is the key's type (checked before Unmarshal, so a bad
// value is named with its key): string, int, bool, time.Duration or []string.
var defaults = map[string]any{
	"warehouse":                      "duckdb://data/qcredit.duckdb",
	"listen":                         ":8080",
	"log.level":                      "info",
	"log.format":                     "text",
	"kafka.brokers":                  []string{},
	"uscc.accept_check_failures":     false,
	"scoring.file":                   "",
	"lists.file":                     "",
	"lists.retention":                366 * 24 * time.Hour,
	"clusters.file":                  "",
	"clusters.chromium":              "",
	"kafka.topics":                   []string{"qcredit.events"},
	"kafka.group":                    "qcredit-ingest",
	"ingest.batch_size":              50_000,
	"ingest.batch_interval":          time.Second,
	"ingest.max_backoff":             30 * time.Second,
	"ingest.listen":                  ":9091",
	"ingest.future_tolerance":        ingest.DefaultFutureTolerance,
	"scheduler.enabled":              true,
	"scheduler.schedules":            map[string]string{}, // YAML only: job: cron spec, "after JOB" or "off"
	"serving.refresh":                5 * time.Second,
	"serving.penalty_months_light":   serving.DefaultPenaltyPeriods.Light,
	"serving.penalty_months_general": serving.DefaultPenaltyPeriods.General,
	"serving.penalty_months_heavy":   serving.DefaultPenaltyPeriods.Heavy,
	"api.key_refresh":                2 * time.Second,
	"api.public_rate":                10.0,
	"api.public_burst":               50,
	"api.trusted_proxies":            []string{},
}

// configSections are the nested keys (log, kafka, …); env and flag names
// split after them: QCREDIT_INGEST_BATCH_SIZE is ingest.batch_size.
var configSections = func() []string {
	var out []string
	for key := range defaults {
		if s, _, ok := strings.Cut(key, "."); ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}()

func splitSection(name, sep string) string {
	for _, s := range configSections {
		if strings.HasPrefix(name, s+sep) {
			return s + "." + strings.TrimPrefix(name, s+sep)
		}
	}
	return name
}

// envKey is the key of a QCREDIT_* variable, e.g. ingest.batch_size.
func envKey(name string) string {
	return splitSection(strings.ToLower(strings.TrimPrefix(name, "QCREDIT_")), "_")
}

// envName is the variable that sets key, e.g. QCREDIT_INGEST_BATCH_SIZE.
func envName(key string) string {
	return "QCREDIT_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// flagKey is the key of a flag, e.g. --uscc-accept-check-failures is
// uscc.accept_check_failures (and so is its old spelling with underscores).
func flagKey(name string) string {
	return strings.ReplaceAll(splitSection(name, "-"), "-", "_")
}

// loadConfig reads every layer and checks the result. Its warnings are for
// the logger, which needs the configuration before it exists.
func loadConfig(flags *pflag.FlagSet) (cfg Config, warnings []string, err error) {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaults, "."), nil); err != nil {
		return cfg, nil, err
	}
	path, _ := flags.GetString("config")
	if path == "" {
		path = os.Getenv("QCREDIT_CONFIG")
	}
	if path != "" {
		fk := koanf.New(".")
		if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
			return cfg, nil, fmt.Errorf("config file %s: %w", path, err)
		}
		if err := knownKeys(fk.Keys()); err != nil {
			return cfg, nil, fmt.Errorf("config file %s: %w", path, err)
		}
		if err := k.Merge(fk); err != nil {
			return cfg, nil, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	warnings = unknownEnv(os.Environ())
	err = k.Load(env.Provider(".", env.Opt{
		Prefix: "QCREDIT_",
		TransformFunc: func(name, v string) (string, any) {
			key := envKey(name)
			if _, ok := defaults[key].([]string); ok {
				return key, splitList(v)
			}
			if _, ok := defaults[key]; !ok { // warned about above; QCREDIT_CONFIG and QCREDIT_TEST_* are no settings
				return "", nil
			}
			return key, v
		},
	}), nil)
	if err != nil {
		return cfg, warnings, fmt.Errorf("environment: %w", err)
	}
	err = k.Load(posflag.ProviderWithFlag(flags, ".", k, func(f *pflag.Flag) (string, any) {
		key := flagKey(f.Name)
		if _, setting := defaults[key]; !f.Changed || !setting { // a command's own flag
			return "", nil
		}
		return key, posflag.FlagVal(flags, f)
	}), nil)
	if err != nil {
		return cfg, warnings, fmt.Errorf("flags: %w", err)
	}
	if err := checkTypes(k); err != nil {
		return cfg, warnings, fmt.Errorf("configuration: %w", err)
	}
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return cfg, warnings, fmt.Errorf("configuration: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, warnings, fmt.Errorf("configuration: %w", err)
	}
	return cfg, warnings, nil
}

// knownKeys refuses keys that are no setting: a typo (warehous:) would
// otherwise leave the default in force without a word.
func knownKeys(keys []string) error {
	var errs []error
	for _, key := range keys {
		if _, ok := defaults[key]; ok || inMapSetting(key) {
			continue
		}
		known := slices.Sorted(maps.Keys(defaults))
		section, _, _ := strings.Cut(key, ".")
		if slices.Contains(configSections, section) {
			known = slices.DeleteFunc(known, func(k string) bool { return !strings.HasPrefix(k, section+".") })
		}
		if key == section && slices.Contains(configSections, section) {
			errs = append(errs, fmt.Errorf("%s is a section, not a value: set %s", key, strings.Join(known, ", ")))
			continue
		}
		errs = append(errs, fmt.Errorf("unknown key %s (known keys: %s)", key, strings.Join(known, ", ")))
	}
	return errors.Join(errs...)
}

// inMapSetting reports whether key names an entry of a map setting
// (scheduler.schedules.score); the entries are checked where they are used.
func inMapSetting(key string) bool {
	for k, v := range defaults {
		if _, ok := v.(map[string]string); ok && strings.HasPrefix(key, k+".") && !strings.Contains(key[len(k)+1:], ".") {
			return true
		}
	}
	return false
}

// unknownEnv warns of QCREDIT_* variables that set nothing, as a typo does;
// the tests' QCREDIT_TEST_* and QCREDIT_CONFIG (the file) are not settings.
func unknownEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "QCREDIT_") || strings.HasPrefix(name, "QCREDIT_TEST_") || name == "QCREDIT_CONFIG" {
			continue
		}
		if _, ok := defaults[envKey(name)]; !ok {
			out = append(out, fmt.Sprintf("environment variable %s sets nothing and is ignored (settings: %s)", name, strings.Join(envNames(), ", ")))
		}
	}
	return out
}

func envNames() []string {
	var out []string
	for key := range defaults {
		out = append(out, envName(key))
	}
	slices.Sort(out)
	return out
}

// checkTypes checks each value against its default's type, naming the key
// and where else it can be set.
func checkTypes(k *koanf.Koanf) error {
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(defaults)) {
		v := k.Get(key)
		var want string
		switch defaults[key].(type) {
		case int:
			if !isWholeNumber(v) {
				want = "a whole number"
			}
		case bool:
			if _, ok := v.(bool); !ok && !parses(v, func(s string) error { _, err := strconv.ParseBool(s); return err }) {
				want = "true or false"
			}
		case time.Duration:
			if _, ok := v.(time.Duration); !ok && !parses(v, func(s string) error { _, err := time.ParseDuration(s); return err }) {
				want = "a duration such as 500ms, 30s or 24h"
			}
		case []string:
			if !isStringList(v) {
				want = "a list of strings"
			}
		case string:
			if _, ok := v.(string); !ok && !isScalar(v) {
				want = "a string"
			}
		case map[string]string:
			if !isStringMap(v) {
				want = "a map of names to strings"
			}
		}
		if want != "" {
			errs = append(errs, fmt.Errorf("%s (%s) is %v: want %s", key, envName(key), v, want))
		}
	}
	return errors.Join(errs...)
}

// isStringMap reports whether v is a map of strings: the default as it
// is, or a YAML mapping of strings.
func isStringMap(v any) bool {
	switch m := v.(type) {
	case nil, map[string]string:
		return true
	case map[string]any:
		for _, e := range m {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func isWholeNumber(v any) bool {
	switch n := v.(type) {
	case int, int64:
		return true
	case float64:
		return n == float64(int64(n))
	case string:
		_, err := strconv.Atoi(strings.TrimSpace(n))
		return err == nil
	}
	return false
}

func parses(v any, parse func(string) error) bool {
	s, ok := v.(string)
	return ok && parse(strings.TrimSpace(s)) == nil
}

func isStringList(v any) bool {
	switch l := v.(type) {
	case []string, string:
		return true
	case []any:
		for _, item := range l {
			if !isScalar(item) {
				return false
			}
		}
		return true
	}
	return false
}

// isScalar is a YAML value that reads as a string (warehouse: 5), not a list or map.
func isScalar(v any) bool {
	switch v.(type) {
	case string, int, int64, float64, bool:
		return true
	}
	return false
}

// Validate checks the settings whose values form a fixed set or a range.
func (c Config) Validate() error {
	var errs []error
	oneOf := func(key, v string, allowed []string) {
		if !slices.Contains(allowed, strings.ToLower(v)) {
			errs = append(errs, fmt.Errorf("%s (%s) is %q: want one of %s", key, envName(key), v, strings.Join(allowed, ", ")))
		}
	}
	positive := func(key string, ok bool, v any) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s (%s) is %v: want more than 0", key, envName(key), v))
		}
	}
	oneOf("log.level", c.Log.Level, logLevels)
	oneOf("log.format", c.Log.Format, logFormats)
	if scheme, rest, _ := strings.Cut(c.Warehouse, "://"); (scheme != "duckdb" && scheme != "clickhouse") || rest == "" {
		errs = append(errs, fmt.Errorf("warehouse (QCREDIT_WAREHOUSE, --warehouse) is %q: want duckdb://PATH or clickhouse://HOST:PORT/DB", c.Warehouse))
	}
	positive("ingest.batch_size", c.Ingest.BatchSize > 0, c.Ingest.BatchSize)
	positive("ingest.batch_interval", c.Ingest.BatchInterval > 0, c.Ingest.BatchInterval)
	positive("ingest.max_backoff", c.Ingest.MaxBackoff > 0, c.Ingest.MaxBackoff)
	positive("ingest.future_tolerance", c.Ingest.FutureTolerance > 0, c.Ingest.FutureTolerance)
	positive("serving.penalty_months_light", c.Serving.PenaltyMonthsLight > 0, c.Serving.PenaltyMonthsLight)
	positive("serving.penalty_months_general", c.Serving.PenaltyMonthsGeneral > 0, c.Serving.PenaltyMonthsGeneral)
	positive("serving.penalty_months_heavy", c.Serving.PenaltyMonthsHeavy > 0, c.Serving.PenaltyMonthsHeavy)
	return errors.Join(errs...)
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
