package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// maxSocketPath is the longest socket path every kernel takes as is: a
// sockaddr_un holds 108 bytes on Linux and 104 on the BSDs, with the NUL.
const maxSocketPath = 103

// shortSocketPath calls fn with a path to sock that fits a sockaddr_un. A
// longer path (a warehouse deep under a data directory, a test's temporary
// directory) is reached through an open descriptor of its directory,
// /proc/self/fd/N/NAME, which the kernel resolves like the full path; the
// descriptor stays open until fn returns.
func shortSocketPath(sock string, fn func(path string) error) error {
	if len(sock) <= maxSocketPath {
		return fn(sock)
	}
	dir, err := os.Open(filepath.Dir(sock))
	if err != nil {
		return err
	}
	defer dir.Close()
	short := fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(sock))
	if len(short) > maxSocketPath {
		return fmt.Errorf("socket name %s is longer than a socket path can be", filepath.Base(sock))
	}
	return fn(short)
}

// listenUnix listens on sock, however long its path. The caller removes sock
// when done: the listener does not, since the name it bound by may no longer
// lead there.
func listenUnix(sock string) (*net.UnixListener, error) {
	var ln *net.UnixListener
	err := shortSocketPath(sock, func(path string) error {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		ln = l
		return err
	})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(false)
	return ln, nil
}

// dialUnix connects to sock, however long its path.
func dialUnix(ctx context.Context, sock string) (net.Conn, error) {
	var conn net.Conn
	err := shortSocketPath(sock, func(path string) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", path)
		conn = c
		return err
	})
	return conn, err
}
