package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/internal/testenv"
	"github.com/qcredit/qcredit/model"
	"github.com/qcredit/qcredit/warehouse"
)

// qcredit runs the built binary in dir, as an operator's script would, with
// no QCREDIT_* settings but env, and returns its stdout, stderr and exit status.
func qcredit(t *testing.T, dir string, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), testenv.Binary(t), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "QCREDIT_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run qcredit: %v", err)
	}
	return out.String(), errb.String(), code
}

// entries lists what dir holds, recursively.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if path != dir {
			out = append(out, path)
		}
		return err
	})
	return out
}

// spotCheckLine is a valid event line; at is its occurred_at.
func spotCheckLine(id, at string) string {
	return `{"id":"` + id + `","type":"spot_check.completed","uscc":"` + string(model.CompleteUSCC("91320830MA1AAA01")) +
		`","source":"320830","occurred_at":"` + at + `","data":{"check_id":"C-` + id + `","product":"电线电缆","result":"pass"}}`
}

func TestReadingCommandsRefuseAMissingWarehouse(t *testing.T) {
	// Given an empty directory, when a command that only reads runs there
	// with the default warehouse, then it exits 2 naming the path and how to
	// create it, and the directory stays empty.
	dir := t.TempDir()
	for _, args := range [][]string{{"stats"}, {"dead-letters"}, {"pipeline", "list"}, {"keys", "list"},
		{"keys", "create", "--name", "ops", "--scope", "analyst"}} {
		_, stderr, code := qcredit(t, dir, nil, "", args...)
		if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "data", "qcredit.duckdb")+") does not exist") || !strings.Contains(stderr, "qcredit migrate") {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming data/qcredit.duckdb and qcredit migrate", args, code, stderr)
		}
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("the commands created %v", got)
	}
}

func TestMissingDirectoriesAreCreatedOnlyByCommandsThatCreate(t *testing.T) {
	// Given a duckdb:// path under directories that do not exist, stats
	// refuses it and creates nothing; migrate creates the directories and
	// the file, after which stats reads it.
	dir := t.TempDir()
	url := "duckdb://" + filepath.Join(dir, "a", "b", "w.duckdb")
	t.Setenv("QCREDIT_WAREHOUSE", url)
	if _, err := run(t, "", "stats"); !errors.Is(err, warehouse.ErrNoWarehouse) {
		t.Fatalf("stats: want ErrNoWarehouse, got %v", err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("stats created %v", got)
	}
	if out, err := run(t, "", "migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := run(t, "", "stats")
	if err != nil || !strings.Contains(out, `"total": 0`) {
		t.Errorf("stats after migrate: %v\n%s", err, out)
	}
}

func TestImportPrintsItsSummaryWhenALaterFileFails(t *testing.T) {
	// Given a good file, a missing one and another good one, when they are
	// imported, then the summary on stdout says what the first stored and
	// names the missing file, the command exits 2 naming it too, and the
	// last file is reported not imported.
	dir := t.TempDir()
	t.Setenv("QCREDIT_WAREHOUSE", "duckdb://"+filepath.Join(dir, "w.duckdb"))
	good := writeFile(t, "good.jsonl", spotCheckLine("320830-1", "2025-03-01T09:00:00+08:00")+"\n"+spotCheckLine("320830-2", "2025-03-01T10:00:00+08:00")+"\n")
	missing := filepath.Join(dir, "missing.jsonl")
	out, err := run(t, "", "import", good, missing, good)
	if err == nil || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Fatalf("want an error naming missing.jsonl, got %v", err)
	}
	var rep struct {
		Stored int `json:"stored"`
		Files  []struct {
			File   string `json:"file"`
			Stored int    `json:"stored"`
			Error  string `json:"error"`
		} `json:"files"`
		NotImported []string `json:"not_imported"`
	}
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil {
		t.Fatalf("summary: %v\n%s", jerr, out)
	}
	if rep.Stored != 2 || len(rep.Files) != 2 || rep.Files[0].Stored != 2 || rep.Files[1].File != missing ||
		!strings.Contains(rep.Files[1].Error, "no such file") || len(rep.NotImported) != 1 {
		t.Errorf("summary %+v", rep)
	}
}

func TestImportReadsStandardInput(t *testing.T) {
	// Given events on stdin with one bad line, `import -` stores the good
	// ones and dead-letters the bad one with origin stdin:-:LINE.
	t.Setenv("QCREDIT_WAREHOUSE", "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"))
	stdin := spotCheckLine("320830-1", "2025-03-01T09:00:00+08:00") + "\n" + `{"id":` + "\n"
	out, err := run(t, stdin, "import", "-")
	if err != nil || !strings.Contains(out, `"stored": 1`) || !strings.Contains(out, `"dead_lettered": 1`) {
		t.Fatalf("import -: %v\n%s", err, out)
	}
	out, err = run(t, "", "dead-letters", "--json")
	if err != nil || !strings.Contains(out, `"kind": "stdin"`) || !strings.Contains(out, `"position": "2"`) {
		t.Errorf("dead letters: %v\n%s", err, out)
	}
}

func TestACopiedFileAddsNoDeadLetters(t *testing.T) {
	// Given a file with bad lines imported, when a copy of it under another
	// name is imported, then no dead letter is added: each bad line is
	// listed once, with both files among its origins.
	dir := t.TempDir()
	t.Setenv("QCREDIT_WAREHOUSE", "duckdb://"+filepath.Join(dir, "w.duckdb"))
	content := spotCheckLine("320830-1", "2025-03-01T09:00:00+08:00") + "\n" +
		strings.Replace(spotCheckLine("320830-2", "2025-03-01T09:00:00+08:00"), `"source":"320830"`, `"source":"320899"`, 1) + "\n" +
		`{"id":"broken"` + "\n"
	first := writeFile(t, "bureau.jsonl", content)
	copied := writeFile(t, "bureau-copy.jsonl", content)
	if out, err := run(t, "", "import", first); err != nil || !strings.Contains(out, `"dead_lettered": 2`) {
		t.Fatalf("first import: %v\n%s", err, out)
	}
	out, err := run(t, "", "import", copied)
	if err != nil || !strings.Contains(out, `"dead_lettered": 0`) || !strings.Contains(out, `"dead_letters_known": 2`) {
		t.Fatalf("import of the copy: %v\n%s", err, out)
	}
	out, err = run(t, "", "stats")
	if err != nil || !strings.Contains(out, `"dead_letters": {
    "total": 2`) {
		t.Errorf("stats: %v\n%s", err, out)
	}
	out, err = run(t, "", "dead-letters", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var letters []warehouse.StoredDeadLetter
	if err := json.Unmarshal([]byte(out), &letters); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(letters) != 2 {
		t.Fatalf("%d dead letters listed, want 2:\n%s", len(letters), out)
	}
	for _, dl := range letters {
		if len(dl.Origins) != 2 || dl.Origins[0].Name != first || dl.Origins[1].Name != copied {
			t.Errorf("dead letter %s: origins %+v, want both files", dl.Reason, dl.Origins)
		}
	}
	out, err = run(t, "", "dead-letters", "--reason", "invalid_field", "--source", "320899")
	if err != nil || !strings.Contains(out, "320830-2") || strings.Contains(out, "malformed_json") || !strings.Contains(out, "bureau-copy.jsonl:2") {
		t.Errorf("dead-letters --reason invalid_field --source 320899: %v\n%s", err, out)
	}
	if _, err := run(t, "", "dead-letters", "--reason", "typo"); err == nil || !strings.Contains(err.Error(), "malformed_json") {
		t.Errorf("an unknown reason should be refused with the list of reasons: %v", err)
	}
}

func TestAFutureEventIsRefused(t *testing.T) {
	// Given a spot check dated 2099 and one a few minutes ahead of now, when
	// they are imported, then the first is dead-lettered saying it lies in
	// the future, and the second is stored (clocks differ by minutes).
	t.Setenv("QCREDIT_WAREHOUSE", "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"))
	soon := time.Now().Add(10 * time.Minute).Format(time.RFC3339)
	file := writeFile(t, "f.jsonl", spotCheckLine("320830-1", "2099-03-01T09:00:00+08:00")+"\n"+spotCheckLine("320830-2", soon)+"\n")
	out, err := run(t, "", "import", file)
	if err != nil || !strings.Contains(out, `"stored": 1`) || !strings.Contains(out, `"dead_lettered": 1`) {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, err = run(t, "", "dead-letters")
	if err != nil || !strings.Contains(out, "320830-1") || !strings.Contains(out, "in the future") {
		t.Errorf("dead letters: %v\n%s", err, out)
	}
	t.Setenv("QCREDIT_INGEST_FUTURE_TOLERANCE", "1m")
	file = writeFile(t, "g.jsonl", spotCheckLine("320830-3", soon)+"\n")
	if out, err := run(t, "", "import", file); err != nil || !strings.Contains(out, `"dead_lettered": 1`) {
		t.Errorf("with a tolerance of a minute, ten minutes ahead should be refused: %v\n%s", err, out)
	}
}

func TestSimulateNeedsToBeToldWhereToWrite(t *testing.T) {
	for _, args := range [][]string{{"simulate", "--enterprises", "10"}, {"simulate", "--out", "-", "--brokers", "x:1"}} {
		if _, err := run(t, "", args...); err == nil || !strings.Contains(err.Error(), "--out") {
			t.Errorf("%v: want an error naming --out, got %v", args, err)
		}
	}
	out, err := run(t, "", "simulate", "--enterprises", "5", "--years", "1", "--end", "2026-06-30", "--out", "-")
	if err != nil || strings.Count(out, "\n") < 5 {
		t.Errorf("--out -: %v, %d lines", err, strings.Count(out, "\n"))
	}
}

func TestUnknownSubcommandFails(t *testing.T) {
	// Given a group of commands, an unknown subcommand is an error listing
	// the real ones (exit 2), while the group alone prints its help.
	_, stderr, code := qcredit(t, t.TempDir(), nil, "", "uscc", "foo")
	if code != 2 || !strings.Contains(stderr, `unknown command "foo"`) || !strings.Contains(stderr, "check") {
		t.Errorf("uscc foo: exit %d, stderr %q", code, stderr)
	}
	if out, err := run(t, "", "uscc"); err != nil || !strings.Contains(out, "Available Commands") {
		t.Errorf("uscc: %v\n%s", err, out)
	}
	if _, err := run(t, "", "pipeline", "rnu"); err == nil {
		t.Error("pipeline rnu should fail")
	}
}

func TestNoProgressBarWhenStderrIsNotATerminal(t *testing.T) {
	// Given stderr redirected to a file, import draws no progress bar there.
	dir := t.TempDir()
	file := writeFile(t, "f.jsonl", spotCheckLine("320830-1", "2025-03-01T09:00:00+08:00")+"\n")
	stdout, stderr, code := qcredit(t, dir, []string{"QCREDIT_WAREHOUSE=duckdb://" + filepath.Join(dir, "w.duckdb")}, "", "import", file)
	if code != 0 || !strings.Contains(stdout, `"stored": 1`) {
		t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "import "+file) || strings.Contains(stderr, "%") {
		t.Errorf("stderr holds a progress bar:\n%q", stderr)
	}
}

func TestREADMEExampleEventImports(t *testing.T) {
	// The example event of the README's contract section, as written, is
	// imported and stored.
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "## The event contract (v1)")
	_, rest, ok := strings.Cut(section, "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no ```json example in its contract section")
	}
	var e model.Event
	if err := json.Unmarshal([]byte(example), &e); err != nil {
		t.Fatalf("the example is not JSON: %v", err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, []byte(example)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("QCREDIT_WAREHOUSE", "duckdb://"+filepath.Join(t.TempDir(), "w.duckdb"))
	out, err := run(t, line.String()+"\n", "import", "-")
	if err != nil || !strings.Contains(out, `"stored": 1`) {
		t.Fatalf("import of the README's example: %v\n%s", err, out)
	}
	out, err = run(t, "", "stats")
	if err != nil || !strings.Contains(out, `"`+string(e.Type)+`": 1`) {
		t.Errorf("stats: %v\n%s", err, out)
	}
	if r := (model.USCCPolicy{}).Check(string(e.USCC)); !r.Valid() {
		t.Errorf("the README's USCC %s: %v", e.USCC, r.Err())
	}
}
