package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/qcredit/qcredit/ingest"
)

func newImportCmd(a *app) *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import JSONL event files (- for stdin); bad lines go to the dead letters",
		Long: `Import JSONL files, one v1 event per line, through the same validation as
Kafka ingest; - reads standard input. Every refused line is kept in the dead
letters with its reason and origin (file:PATH:LINE, stdin:-:LINE); importing
a file again, or a copy of it, stores nothing twice.

Prints a JSON summary of what was stored, per file and in total, also when a
file fails: the import stops at that file, names it and exits 2; the files
before it stay imported. Refused lines do not make it fail: they are in the
dead letters and the summary. A progress bar is drawn on stderr when it is a
terminal.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n := slices.Index(args, "-"); n >= 0 && slices.Index(args[n+1:], "-") >= 0 {
				return errors.New("import: - (standard input) can be read only once")
			}
			bulkGC()
			s, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			im := ingest.Importer{Store: s, Decoder: a.decoder()}
			progress := !quiet && term.IsTerminal(int(os.Stderr.Fd()))
			rep := importReport{Files: []fileReport{}}
			for i, path := range args {
				sum, err := importOne(cmd.Context(), im, path, cmd.InOrStdin(), progress)
				rep.add(path, sum, err)
				if err != nil {
					rep.NotImported = args[i+1:]
					if perr := printJSON(cmd, rep); perr != nil {
						return errors.Join(err, perr)
					}
					return importFailed(path, rep.NotImported, err)
				}
			}
			return printJSON(cmd, rep)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// importOne imports one file, or standard input for "-".
func importOne(ctx context.Context, im ingest.Importer, path string, stdin io.Reader, progress bool) (ingest.ImportSummary, error) {
	if path == "-" {
		return im.ImportStdin(ctx, stdin)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return ingest.ImportSummary{}, err
	}
	if progress {
		bar := progressbar.DefaultBytes(fi.Size(), "import "+path)
		defer bar.Finish()
		im.Progress = func(n int64) { bar.Set64(n) }
	}
	return im.ImportFile(ctx, path)
}

func importFailed(path string, notImported []string, err error) error {
	skipped := ""
	if len(notImported) > 0 {
		skipped = "; not imported: " + strings.Join(notImported, " ")
	}
	return fmt.Errorf("import stopped at %s (the summary on stdout counts what was stored before%s): %w", path, skipped, err)
}

// importCounts are the numbers of an import, as printed.
type importCounts struct {
	Read             int64 `json:"read"`
	Blank            int64 `json:"blank"`
	Stored           int   `json:"stored"`
	Duplicates       int   `json:"duplicates"`
	Conflicts        int   `json:"conflicts"`
	DeadLettered     int   `json:"dead_lettered"`
	DeadLettersKnown int   `json:"dead_letters_known"`
	Refused          int64 `json:"refused"`
}

func countsOf(s ingest.ImportSummary) importCounts {
	return importCounts{Read: s.Lines, Blank: s.Blank, Stored: s.Stored, Duplicates: s.Duplicates, Conflicts: s.Conflicts,
		DeadLettered: s.DeadLettered, DeadLettersKnown: s.DeadLetterRepeats, Refused: s.Refused + int64(s.Conflicts)}
}

// importReport is the summary printed at the end of an import: the totals,
// then each file.
type importReport struct {
	importCounts
	Files       []fileReport `json:"files"`
	NotImported []string     `json:"not_imported,omitempty"` // after a failed file
	total       ingest.ImportSummary
}

type fileReport struct {
	File string `json:"file"`
	importCounts
	Error string `json:"error,omitempty"`
}

func (r *importReport) add(path string, s ingest.ImportSummary, err error) {
	f := fileReport{File: path, importCounts: countsOf(s)}
	if err != nil {
		f.Error = err.Error()
	}
	r.Files = append(r.Files, f)
	r.total = r.total.Add(s)
	r.importCounts = countsOf(r.total)
}

// bulkGC trades memory for CPU in bulk commands: decoded batches are large
// and short-lived, and the default GC target spends about a fifth of an
// import's CPU collecting them. GOGC, when set, wins.
func bulkGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
