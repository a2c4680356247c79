package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/model"
)

func newImportCmd(a *app) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import JSONL event files; bad lines go to the dead letters with file:line",
		Long: `Import JSONL files, one v1 event per line, through the same validation as
Kafka ingest. Every refused line is kept in the dead letters with file:line and
the reason; re-importing a file stores nothing twice. Prints a JSON summary.
Exits non-zero only when the import itself could not run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bulkGC()
			s, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			im := ingest.Importer{
				Store:   s,
				Decoder: ingest.Decoder{Policy: model.USCCPolicy{AcceptCheckFailures: a.cfg.USCC.AcceptCheckFailures}},
			}
			var total ingest.ImportSummary
			for _, path := range args {
				fi, err := os.Stat(path)
				if err != nil {
					return fmt.Errorf("import: %w", err)
				}
				var bar *progressbar.ProgressBar
				if !quiet {
					bar = progressbar.DefaultBytes(fi.Size(), "import "+path)
					im.Progress = func(n int64) { bar.Set64(n) }
				}
				sum, err := im.ImportFile(cmd.Context(), path)
				if bar != nil {
					bar.Finish()
				}
				total = total.Add(sum)
				if err != nil {
					return err
				}
			}
			return printJSON(cmd, importReport(total))
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// importReport is the summary printed at the end of an import.
func importReport(s ingest.ImportSummary) map[string]any {
	return map[string]any{
		"read":               s.Lines,
		"blank":              s.Blank,
		"stored":             s.Stored,
		"duplicates":         s.Duplicates,
		"conflicts":          s.Conflicts,
		"dead_lettered":      s.DeadLettered,
		"dead_letters_known": s.DeadLetterRepeats,
		"refused":            s.Refused + int64(s.Conflicts),
	}
}

// bulkGC trades memory for CPU in bulk commands: decoded batches are large
// and short-lived, and the default GC target spends about a fifth of an
// import's CPU collecting them. GOGC, when set, wins.
func bulkGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
