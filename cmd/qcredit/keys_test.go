package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcredit/qcredit/internal/testenv"
)

// startDev starts `qcredit dev` in dir (a small city, its own broker and
// listener) and returns the API's base URL once it serves.
func startDev(t *testing.T, dir string, env []string) string {
	t.Helper()
	dev := exec.Command(testenv.Binary(t), "dev", "--listen", "127.0.0.1:0", "--broker", "127.0.0.1:0",
		"--enterprises", "300", "--years", "1", "--seed", "7")
	dev.Dir = dir
	dev.Env = append(os.Environ(), env...)
	stdout, err := dev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "dev.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	dev.Stderr = logFile
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		dev.Process.Signal(os.Interrupt)
		dev.Wait()
		logFile.Close()
	})
	health := regexp.MustCompile(`health: +(http://\S+)/healthz`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := health.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case base := <-found:
		return base
	case <-time.After(3 * time.Minute):
		b, _ := os.ReadFile(logPath)
		t.Fatalf("dev did not start:\n%s", b)
	}
	return ""
}

func TestKeysCreateWhileDevRuns(t *testing.T) {
	// Given `qcredit dev` holding its DuckDB file, when an operator creates
	// an analyst key from another process, then the command prints the key
	// alone on stdout (everything else on stderr), and the key works at once
	// on the running server; once revoked it is refused at once.
	dir := t.TempDir()
	env := []string{"QCREDIT_WAREHOUSE=duckdb://" + filepath.Join(dir, "data", "qcredit.duckdb"), "QCREDIT_LOG_LEVEL=warn"}
	base := startDev(t, dir, env)

	out, stderr, err := binary(t, env, "keys", "create", "--name", "ops-analyst", "--scope", "analyst", "--source", "320830")
	if err != nil {
		t.Fatalf("keys create while dev runs: %v\n%s", err, stderr)
	}
	key := strings.TrimSuffix(out, "\n")
	if strings.Count(out, "\n") != 1 || !regexp.MustCompile(`^qck_[a-z2-7]{13}_[a-z2-7]{52}$`).MatchString(key) {
		t.Fatalf("stdout is not the key alone: %q", out)
	}
	if !strings.Contains(stderr, "created key ops-analyst") {
		t.Errorf("stderr: %q", stderr)
	}
	call := func() int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/scores?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call(); got != http.StatusOK {
		t.Fatalf("the new key right after keys create: %d", got)
	}
	list, stderr, err := binary(t, env, "keys", "list")
	if err != nil || !strings.Contains(list, "ops-analyst") || !strings.Contains(list, "320830") || strings.Contains(list, key[18:]) {
		t.Errorf("keys list: %v\n%s%s", err, list, stderr)
	}
	if _, stderr, err := binary(t, env, "keys", "revoke", "ops-analyst"); err != nil {
		t.Fatalf("keys revoke: %v\n%s", err, stderr)
	}
	if got := call(); got != http.StatusUnauthorized {
		t.Errorf("the revoked key right after keys revoke: %d", got)
	}

	// The operator's commands are in the audit log, a refused one too.
	if _, _, err := binary(t, env, "keys", "revoke", "no-such-key"); err == nil {
		t.Errorf("revoking a key that does not exist succeeded")
	}
	admin, stderr, err := binary(t, env, "keys", "create", "--name", "ops-admin", "--scope", "admin")
	if err != nil {
		t.Fatalf("keys create admin: %v\n%s", err, stderr)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/audit?key_name=operator&scope=admin", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(admin))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var audit struct {
		Items []struct {
			Route, Method string
			Status        int
			Params        map[string]string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&audit); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/audit: %d %v", resp.StatusCode, err)
	}
	var got []string
	for _, it := range audit.Items {
		got = append(got, fmt.Sprintf("%s %s %d name=%s scope=%s source=%s", it.Method, it.Route, it.Status,
			it.Params["name"], it.Params["scope"], it.Params["source"]))
	}
	want := []string{
		"CLI qcredit keys create 0 name=ops-analyst scope=analyst source=320830",
		"CLI qcredit keys revoke 0 name=ops-analyst scope= source=",
		"CLI qcredit keys revoke 2 name=no-such-key scope= source=",
		"CLI qcredit keys create 0 name=ops-admin scope=admin source=",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the operator's audit records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
