package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/qcredit/qcredit/ingest"
	"github.com/qcredit/qcredit/warehouse"
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
			ops, err := a.openOps(cmd.Context(), warehouse.OpenModeCreate)
			if err != nil {
				return err
			}
			defer ops.Close()
			progress := !quiet && term.IsTerminal(int(os.Stderr.Fd()))
			rep := importReport{Files: []fileReport{}}
			for i, path := range args {
				sum, err := importOne(cmd.Context(), ops, path, cmd.InOrStdin(), progress)
				rep.add(path, sum, err)
				if err != nil {
					rep.NotImported = args[i+1:]
					if perr := printJSON(cmd, rep); perr != nil {
						return errors.Join(err, perr)
					}
					return importFailed(path, rep.NotImported, err)
				}
			}
			// A large import leaves DuckDB's events partly unsorted: sort them
			// now rather than at the nightly task (a no-op when little came).
			if err := ops.run(cmd.Context(), "optimize", struct{}{}, nil, io.Discard); err != nil {
				return err
			}
			return printJSON(cmd, rep)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// importArgs is the request of the import op: one file's stream, named by
// its absolute path (the dead letters' origins) or "-" for standard input.
type importArgs struct {
	File string `json:"file"`
}

// importOne imports one file, or standard input for "-", through ops (here
// or in the running server, which reads the stream this process sends).
func importOne(ctx context.Context, ops *opSession, path string, stdin io.Reader, progress bool) (ingest.ImportSummary, error) {
	q := importArgs{File: "-"}
	in := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return ingest.ImportSummary{}, err // "open PATH: …" says it all
		}
		defer f.Close()
		if q.File, err = filepath.Abs(path); err != nil {
			q.File = path
		}
		in = f
		if fi, err := f.Stat(); err == nil && progress {
			bar := progressbar.DefaultBytes(fi.Size(), "import "+path)
			defer bar.Finish()
			in = io.TeeReader(f, bar)
		}
	}
	var out bytes.Buffer
	err := ops.run(ctx, "import", q, in, &out)
	var sum ingest.ImportSummary
	if jerr := json.Unmarshal(out.Bytes(), &sum); jerr != nil && err == nil {
		err = fmt.Errorf("import %s: reading the summary: %w", path, jerr)
	}
	return sum, err
}

// opImport imports the op's input stream and writes its summary as JSON,
// also when the import failed part way (the summary counts what was stored).
func (a *app) opImport(ctx context.Context, e *opEnv, raw json.RawMessage) error {
	var q importArgs
	if err := json.Unmarshal(raw, &q); err != nil {
		return err
	}
	im := ingest.Importer{Store: e.store, Decoder: a.decoder()}
	var sum ingest.ImportSummary
	var err error
	if q.File == "-" {
		sum, err = im.ImportStdin(ctx, e.in)
	} else {
		sum, err = im.Import(ctx, q.File, e.in)
	}
	if werr := json.NewEncoder(e.out).Encode(sum); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

// opOptimize lets the warehouse reorganise after bulk writes (see Optimize).
func opOptimize(ctx context.Context, e *opEnv, _ json.RawMessage) error { return e.store.Optimize(ctx) }

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
