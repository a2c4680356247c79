// Command qcredit is the quality-credit and risk analytics platform of the
// Huai'an quality-supervision bureau: ingest, warehouse, pipelines and API in
// one binary. This package only wires the other packages together.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exitError carries a specific exit code (e.g. 1 for "some codes invalid").
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "qcredit:", err)
		os.Exit(exitCode(err))
	}
}

// app is what every command shares: its configuration and logger.
type app struct {
	cfg Config
	log *slog.Logger
	// devSession admits the dashboards without a key (qcredit dev only).
	devSession bool
}

func newRootCmd() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:           "qcredit",
		Short:         "Quality-credit and risk analytics for a city quality-supervision bureau",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cfg, warnings, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			a.cfg = cfg
			a.log = newLogger(cfg.Log)
			for _, w := range warnings {
				a.log.Warn(w)
			}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.String("config", "", "YAML config file (env QCREDIT_CONFIG)")
	pf.String("warehouse", "", "warehouse URL: duckdb://PATH or clickhouse://HOST:PORT/DB (env QCREDIT_WAREHOUSE)")
	pf.String("log-level", "", "debug, info, warn or error (env QCREDIT_LOG_LEVEL)")
	pf.String("log-format", "", "text or json (env QCREDIT_LOG_FORMAT)")
	pf.Bool("uscc-accept-check-failures", false, "accept pilot USCCs that fail the mod-31 check (env QCREDIT_USCC_ACCEPT_CHECK_FAILURES)")
	deprecatedAlias(pf, "uscc-accept_check_failures", "uscc-accept-check-failures")
	root.AddCommand(
		newUSCCCmd(a),
		newMigrateCmd(a),
		newImportCmd(a),
		newStatsCmd(a),
		newServeCmd(a),
		newDevCmd(a),
		newSimulateCmd(a),
		newBenchCmd(a),
		newPipelineCmd(a),
		newIngestCmd(a),
		newBrokerCmd(a),
		newDeadLettersCmd(a),
	)
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes every command that only groups others
// (uscc, pipeline, bench) fail on an unknown subcommand: cobra would print
// its help and exit 0, so a script calling `qcredit uscc chek` would go on
// as if it had worked. Without arguments they still print their help.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		return fmt.Errorf("unknown command %q for %q (commands: %s)", args[0], cmd.CommandPath(), strings.Join(names, ", "))
	}
}

// deprecatedAlias adds old as a hidden spelling of the flag name, kept for
// one release: using it sets the same value and prints a deprecation note.
func deprecatedAlias(fs *pflag.FlagSet, old, name string) {
	f := fs.Lookup(name)
	fs.AddFlag(&pflag.Flag{Name: old, Usage: f.Usage, Value: f.Value, DefValue: f.DefValue, NoOptDefVal: f.NoOptDefVal})
	fs.MarkDeprecated(old, "use --"+name)
}

func newLogger(c LogConfig) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "json") {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// printJSON writes a command's result as indented JSON on its stdout.
func printJSON(cmd *cobra.Command, v any) error { return writeJSON(cmd.OutOrStdout(), v) }

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
