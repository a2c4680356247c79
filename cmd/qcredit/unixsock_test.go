package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnixSocketAtALongPath(t *testing.T) {
	// Given a socket path longer than a sockaddr_un holds (a warehouse deep
	// in a data directory), when a server listens there and a client dials
	// it, then they talk, the socket sits at that path, and closing the
	// listener leaves its removal to the caller.
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "warehouse.duckdb.sock")
	if len(sock) <= maxSocketPath {
		t.Fatalf("path %s is short enough to bind directly: the test proves nothing", sock)
	}
	ln, err := listenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("hello"))
	}()
	c, err := dialUnix(t.Context(), sock)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "hello" {
		t.Fatalf("read %q, %v", got, err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket at %s: %v %v", sock, fi, err)
	}
	ln.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("closing the listener removed the socket: %v", err)
	}
}
