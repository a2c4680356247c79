package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/qcredit/qcredit/model"
)

// What the HTTP benchmarks share: a child process serving HTTP (the real
// `qcredit serve`, or the bare handler beside it), and wrk driving it from
// a process of its own.

// child is a server started as a child process.
type child struct {
	name string
	addr string // host:port it listens on
	cmd  *exec.Cmd
	log  string // its stdout and stderr
	done chan error
}

// startChild starts bin with args and extra environment, logging to
// dir/name.log, on addr.
func startChild(ctx context.Context, dir, name, addr, bin string, env []string, args ...string) (*child, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, addr: addr, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() {
		c.done <- cmd.Wait()
		logFile.Close()
	}()
	return c, nil
}

// stop ends the child with SIGTERM (SIGKILL after WaitDelay) and waits.
func (c *child) stop() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// waitReady polls GET path on the child until it answers 200, the child
// exits, or timeout passes.
func (c *child) waitReady(ctx context.Context, path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, err := client.Get("http://" + c.addr + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("%s exited before it was ready (%v); its log:\n%s", c.name, err, tailFile(c.log, 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond): // polling for readiness, with a deadline
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready on %s within %v; its log:\n%s", c.name, c.addr, timeout, tailFile(c.log, 20))
		}
	}
}

// rssBytes is the child's resident set size now (Linux /proc).
func (c *child) rssBytes() (int64, error) {
	return procStatusBytes(c.cmd.Process.Pid, "VmRSS:")
}

func procStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("memory of process %d: no %s in /proc status", pid, field)
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.SplitAfter(string(b), "\n")
	return strings.Join(lines[max(len(lines)-n-1, 0):], "")
}

// freeAddr is a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// serveChild starts `qcredit serve` (bin) on warehouse, without scheduled
// jobs or Kafka, and waits until its read model is loaded (it listens
// only then).
func serveChild(ctx context.Context, dir, bin, warehouse string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// The public rate limit (10 requests/s per client address by default) is
	// raised out of the way: one load generator is one address, and the
	// limiter's own cost is bench search's rate_limiter_ns_per_request.
	c, err := startChild(ctx, dir, "serve", addr, bin, []string{
		"QCREDIT_WAREHOUSE=" + warehouse, "QCREDIT_LISTEN=" + addr, "QCREDIT_SCHEDULER_ENABLED=false",
		"QCREDIT_KAFKA_BROKERS=", "QCREDIT_CONFIG=", "QCREDIT_LOG_LEVEL=info",
		"QCREDIT_API_PUBLIC_RATE=1e9", "QCREDIT_API_PUBLIC_BURST=1000000000",
	}, "serve")
	if err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, "/readyz", 15*time.Minute); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// writeKeys writes one USCC a line, for the load generator to draw from.
func writeKeys(path string, keys []model.USCC) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, k := range keys {
		w.WriteString(string(k))
		w.WriteByte('\n')
	}
	return errors.Join(w.Flush(), f.Close())
}

//go:embed bench_wrk.lua
var wrkScript []byte

// wrkResult is what one wrk run measured (loadResult is the Go load generator's).
type wrkResult struct {
	Target      string  `json:"target"`
	Connections int     `json:"connections"`
	Seconds     float64 `json:"seconds"`
	Requests    int64   `json:"requests"`
	PerSecond   float64 `json:"requests_per_sec"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	Errors      int64   `json:"errors"` // connect, read, write and timeout errors, and statuses ≥ 400
	Bytes       int64   `json:"bytes"`  // received, headers included
}

// loadSpec is one wrk run: GET prefix+key for keys drawn uniformly from
// keysFile, over conns connections for d.
type loadSpec struct {
	Target   string
	Addr     string
	Prefix   string
	KeysFile string
	Headers  []string // "Name: value", sent with every request
	Conns    int
	Threads  int
	Duration time.Duration
	Seed     int
}

// wrkPath is wrk (Debian package wrk), or an error that says how to get it.
func wrkPath() (string, error) {
	p, err := exec.LookPath("wrk")
	if err != nil {
		return "", errors.New("wrk not found: install it (apt-get install wrk; make bench does) to run the HTTP benchmarks")
	}
	return p, nil
}

// runWrk runs wrk with the embedded script (written to dir) and reads the
// JSON line the script's done() prints.
func runWrk(ctx context.Context, dir string, spec loadSpec) (wrkResult, error) {
	wrk, err := wrkPath()
	if err != nil {
		return wrkResult{}, err
	}
	script := filepath.Join(dir, "bench_wrk.lua")
	if err := os.WriteFile(script, wrkScript, 0o644); err != nil {
		return wrkResult{}, err
	}
	threads := min(max(spec.Threads, 1), spec.Conns)
	secs := max(int(spec.Duration.Round(time.Second).Seconds()), 1)
	args := []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(spec.Conns),
		"-d", strconv.Itoa(secs) + "s", "--timeout", "10s", "-s", script}
	for _, h := range spec.Headers {
		args = append(args, "-H", h) // wrk.format sends them with each request
	}
	args = append(args, "http://"+spec.Addr, "--", spec.KeysFile, spec.Prefix, strconv.Itoa(spec.Seed))
	cmd := exec.CommandContext(ctx, wrk, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk against %s: %w\n%s%s", spec.Target, err, stdout.Bytes(), stderr.Bytes())
	}
	var raw struct {
		DurationUs float64 `json:"duration_us"`
		Requests   int64   `json:"requests"`
		Bytes      int64   `json:"bytes"`
		Errors     int64   `json:"errors"`
		P50us      float64 `json:"p50_us"`
		P99us      float64 `json:"p99_us"`
		MaxUs      float64 `json:"max_us"`
	}
	line := lastLineWith(stdout.Bytes(), "qcredit-wrk ")
	if line == nil || json.Unmarshal(line, &raw) != nil {
		return wrkResult{}, fmt.Errorf("wrk against %s printed no result:\n%s%s", spec.Target, stdout.Bytes(), stderr.Bytes())
	}
	secsRun := raw.DurationUs / 1e6
	return wrkResult{Target: spec.Target, Connections: spec.Conns, Seconds: secsRun, Requests: raw.Requests,
		PerSecond: float64(raw.Requests) / secsRun, P50ms: raw.P50us / 1000, P99ms: raw.P99us / 1000,
		MaxMs: raw.MaxUs / 1000, Errors: raw.Errors, Bytes: raw.Bytes}, nil
}

// lastLineWith is the rest of the last line of out starting with prefix.
func lastLineWith(out []byte, prefix string) []byte {
	var found []byte
	for line := range bytes.Lines(out) {
		if rest, ok := bytes.CutPrefix(line, []byte(prefix)); ok {
			found = bytes.TrimSpace(rest)
		}
	}
	return found
}

// fetch GETs url and returns the body of a 200 response.
func fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}

// metricValue reads one unlabelled metric from the child's /metrics.
func metricValue(ctx context.Context, addr, name string) (float64, error) {
	body, err := fetch(ctx, "http://"+addr+"/metrics")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(body) {
		if rest, ok := bytes.CutPrefix(line, []byte(name+" ")); ok {
			return strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
		}
	}
	return 0, fmt.Errorf("no metric %s on %s", name, addr)
}
