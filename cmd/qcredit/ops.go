package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/qcredit/qcredit/pipelines"
	"github.com/qcredit/qcredit/warehouse"
)

// Commands that work on the warehouse run as ops: in this process when it
// can open the warehouse, or, when `serve` or `dev` holds the DuckDB file
// (DuckDB allows one writing process), inside that server, sent over its
// admin socket: a Unix socket next to the database file, owner-only. Both
// ways run the same function against an open store, so they cannot drift,
// and a remote pipeline run takes the server's own runner (its job locks).

// opEnv is what an op runs with.
type opEnv struct {
	app    *app
	store  backend
	runner *pipelines.Runner
	// out is the command's stdout; in its input stream (import, stdin), or
	// an empty reader.
	out io.Writer
	in  io.Reader
	// remote is true inside a server running the op for a command.
	remote bool
	// reloadKeys makes the server's API take key changes at once (inside a
	// server; nil in a command's own process).
	reloadKeys func(context.Context) error
}

// opFunc is an op's work; args is the command's JSON-encoded request.
type opFunc func(ctx context.Context, e *opEnv, args json.RawMessage) error

// ops are every op by name. Each command registers its op here.
func (a *app) ops() map[string]opFunc {
	ops := map[string]opFunc{
		"import":                    a.opImport,
		"optimize":                  opOptimize,
		"stats":                     opStats,
		"dead-letters":              opDeadLetters,
		"pipeline.run":              a.opPipelineRun,
		"pipeline.list":             a.opPipelineList,
		"keys.create":               a.opKeysCreate,
		"keys.list":                 a.opKeysList,
		"keys.revoke":               a.opKeysRevoke,
		"lottery.create":            a.opLotteryCreate,
		"lottery.create-recheck":    a.opLotteryCreateRecheck,
		"lottery.create-assignment": a.opLotteryCreateAssignment,
		"lottery.draw":              a.opLotteryDraw,
	}
	for name, fn := range ops {
		ops[name] = audited(name, fn)
	}
	return ops
}

// runOp runs the named op for cmd: locally, or through the admin socket of
// the server that holds the DuckDB file. mode says whether the command may
// create the warehouse.
func (a *app) runOp(cmd *cobra.Command, mode warehouse.OpenMode, name string, args any, in io.Reader, out io.Writer) error {
	ops, err := a.openOps(cmd.Context(), mode)
	if err != nil {
		return err
	}
	defer ops.Close()
	return ops.run(cmd.Context(), name, args, in, out)
}

// opSession runs a command's ops: against the store it opened (once, for
// all of them), or through the running server's admin socket.
type opSession struct {
	app   *app
	local *opEnv // nil when remote
	sock  string
}

// openOps opens the warehouse for a command's ops, or, when the server
// holds the DuckDB file, finds its admin socket.
func (a *app) openOps(ctx context.Context, mode warehouse.OpenMode) (*opSession, error) {
	s, err := a.openStoreMode(ctx, mode)
	if errors.Is(err, warehouse.ErrInUse) {
		sock, ok := adminSocket(a.cfg.Warehouse)
		if ok {
			if _, serr := os.Stat(sock); serr == nil {
				return &opSession{app: a, sock: sock}, nil
			}
		}
		return nil, fmt.Errorf("%w (and no admin socket %s answers: is it an older qcredit?)", err, sock)
	}
	if err != nil {
		return nil, err
	}
	r, err := a.newRunner(s, nil)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &opSession{app: a, local: &opEnv{app: a, store: s, runner: r}}, nil
}

// remote reports whether the ops go to a running server.
func (o *opSession) remote() bool { return o.local == nil }

// run runs one op with its input and output.
func (o *opSession) run(ctx context.Context, name string, args any, in io.Reader, out io.Writer) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return err
	}
	if in == nil {
		in = strings.NewReader("")
	}
	if o.remote() {
		return remoteOp(ctx, o.sock, name, raw, in, out)
	}
	e := *o.local
	e.in, e.out = in, out
	return o.app.ops()[name](ctx, &e, raw)
}

// Close closes the store the session opened.
func (o *opSession) Close() error {
	if o.local == nil {
		return nil
	}
	return o.local.store.Close()
}

// adminSocket is the admin socket of a DuckDB warehouse: the database file's
// path with ".sock" appended. ClickHouse needs none: every process opens it.
func adminSocket(warehouseURL string) (string, bool) {
	path, ok := strings.CutPrefix(warehouseURL, "duckdb://")
	path, _, _ = strings.Cut(path, "?") // DuckDB settings may follow the file
	if !ok || path == "" || path == ":memory:" {
		return "", false
	}
	return path + ".sock", true
}

// Trailers of an op's response: its error and exit code (2 when unset).
const (
	trailerError = "Qcredit-Error"
	trailerExit  = "Qcredit-Exit"
)

// remoteOp sends an op to the server at sock and copies its output to out.
func remoteOp(ctx context.Context, sock, name string, args json.RawMessage, in io.Reader, out io.Writer) error {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialUnix(ctx, sock)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://qcredit/ops/"+name+"?args="+url.QueryEscape(string(args)), in)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("admin socket %s: %w", sock, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("admin socket %s: %s: %s", sock, resp.Status, strings.TrimSpace(string(msg)))
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		return fmt.Errorf("admin socket %s: %w", sock, err)
	}
	if msg := resp.Trailer.Get(trailerError); msg != "" {
		code, err := strconv.Atoi(resp.Trailer.Get(trailerExit))
		if err != nil {
			code = 2
		}
		return remoteError{msg: msg, code: code}
	}
	return nil
}

// remoteError is an op's error as the server reported it.
type remoteError struct {
	msg  string
	code int
}

func (e remoteError) Error() string { return e.msg }

// exitCode is the process exit code of an op's error: an exitError's, a
// remote one's, else 2.
func exitCode(err error) int {
	var ee exitError
	var re remoteError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &re):
		return re.code
	}
	return 2
}

// serveAdmin serves the ops on the admin socket of s (DuckDB only) until
// ctx ends; the returned stop waits for ops in progress.
func (a *app) serveAdmin(ctx context.Context, s backend, runner *pipelines.Runner, reloadKeys func(context.Context) error) (stop func(), err error) {
	sock, ok := adminSocket(a.cfg.Warehouse)
	if !ok {
		return func() {}, nil
	}
	// This process holds the database file, so a socket left there is a
	// dead server's.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("admin socket %s: %w", sock, err)
	}
	old := syscall.Umask(0o177) // owner-only from creation, not after a chmod
	ln, err := listenUnix(sock)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		os.Remove(sock)
		return nil, fmt.Errorf("admin socket %s: %w", sock, err)
	}
	abs, _ := filepath.Abs(sock)
	a.log.Info("admin socket open", "path", abs)
	srv := &http.Server{Handler: a.adminHandler(ctx, s, runner, reloadKeys), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		os.Remove(sock)
	}, nil
}

// adminHandler runs POST /ops/NAME?args=JSON with the request body as the
// op's input, streaming its output and reporting its error in trailers.
func (a *app) adminHandler(ctx context.Context, s backend, runner *pipelines.Runner, reloadKeys func(context.Context) error) http.Handler {
	ops := a.ops()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _ := strings.CutPrefix(r.URL.Path, "/ops/")
		fn, ok := ops[name]
		if r.Method != http.MethodPost || !ok {
			http.Error(w, "no such op: "+name, http.StatusNotFound)
			return
		}
		w.Header().Set("Trailer", trailerError+", "+trailerExit)
		w.Header().Set("Content-Type", "application/octet-stream")
		out := &flushWriter{w: bufio.NewWriter(w), f: w.(http.Flusher)}
		start := time.Now()
		// The op runs under the server's context, not the client's alone:
		// a client that goes away mid-import leaves a consistent store.
		opCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(r.Context(), cancel)
		defer stop()
		err := fn(opCtx, &opEnv{app: a, store: s, runner: runner, out: out, in: r.Body, remote: true,
			reloadKeys: reloadKeys}, json.RawMessage(r.URL.Query().Get("args")))
		out.w.Flush()
		a.log.Info("admin op", "op", name, "took", time.Since(start).Round(time.Millisecond), "ok", err == nil)
		if err != nil {
			w.Header().Set(trailerError, strings.ReplaceAll(err.Error(), "\n", " "))
			w.Header().Set(trailerExit, strconv.Itoa(exitCode(err)))
		}
	})
}

// flushWriter flushes each write through to the client, so long ops show
// their output as it comes.
type flushWriter struct {
	w *bufio.Writer
	f http.Flusher
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	if err == nil {
		err = fw.w.Flush()
		fw.f.Flush()
	}
	return n, err
}
