package schedulerperf

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// engine is one `sextant serve` process on a unix socket. The benchmark starts a fresh one for
// every Sextant workload: each workload has its own API server, and the engine must start from
// an empty cluster as the plugin's Sync loop expects.
type engine struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startEngine starts binary listening on socket, its output appended to logPath, and returns once
// the socket accepts connections. It fails when the binary exits or the socket is not up in 30s.
func startEngine(binary, socket, logPath string) (*engine, error) {
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "serve", "--listen", "unix://"+socket)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// The engine dies with the benchmark, even when the benchmark is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting the engine %s: %w", binary, err)
	}
	e := &engine{cmd: cmd, done: make(chan struct{})}
	go func() {
		e.err = cmd.Wait()
		logFile.Close()
		close(e.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-e.done:
			return nil, fmt.Errorf("the engine exited before listening on %s (%v); see %s", socket, e.err, logPath)
		default:
		}
		if conn, err := net.DialTimeout("unix", socket, time.Second); err == nil {
			conn.Close()
			return e, nil
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, fmt.Errorf("the engine did not listen on %s within 30s; see %s", socket, logPath)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the engine (SIGTERM, SIGKILL after 5s) and waits for it. It returns an error when
// the engine had already exited on its own, which means it crashed during the workload.
func (e *engine) stop() error {
	select {
	case <-e.done:
		return fmt.Errorf("the engine exited during the workload: %v", e.err)
	default:
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
	return nil
}

// engineSocketDir returns a short directory for the engine's socket: a unix socket path must fit
// in 108 bytes, which a test's TempDir under a long benchmark name may not.
func engineSocketDir() (string, func(), error) {
	dir, err := os.MkdirTemp("", "sextant-perf-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}
