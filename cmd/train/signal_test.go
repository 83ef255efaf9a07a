package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMain lets the signal tests run this test binary as the command:
// with VKNN_TRAIN_MAIN=1 it is `train` with the arguments after "--".
func TestMain(m *testing.M) {
	if os.Getenv("VKNN_TRAIN_MAIN") == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"train"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startTrain runs the command in a subprocess and returns once it is
// training (its first progress line), with its outputs.
func startTrain(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "VKNN_TRAIN_MAIN=1")
	var stdout bytes.Buffer
	stderr := &syncBuffer{}
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pipe)
		once := false
		for sc.Scan() {
			stderr.add(sc.Text() + "\n")
			if !once && strings.HasPrefix(sc.Text(), "step ") {
				once = true
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the run did not start: %s%s", stdout.String(), stderr.String())
	}
	return cmd, &stdout, stderr
}

// syncBuffer is a string buffer written by one goroutine, read by another.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(line)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exitCodeOf waits for cmd and returns its exit code.
func exitCodeOf(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		require.NoError(t, err)
		return 0
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the run did not stop")
		return -1
	}
}

// TestSignals: SIGINT, SIGTERM and SIGHUP each stop the run after the
// step, saying so at once, save it and exit with 128 + the signal's
// number; a second signal stops at once, keeping the last checkpoint.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command in subprocesses")
	}
	data := fakeData(t, 208)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			out := t.TempDir()
			cmd, stdout, stderr := startTrain(t, "--data", data, "--batch", "8", "--val", "48", "--depth", "8",
				"--out", out, "--iters", "100000")
			require.NoError(t, cmd.Process.Signal(tc.sig))
			require.Equal(t, tc.code, exitCodeOf(t, cmd), "exit code; stderr:\n%s", stderr.String())
			require.Contains(t, stderr.String(), "stopping after this step and saving it")
			require.Contains(t, stdout.String(), "interrupted at step ")
			step := strings.Fields(strings.SplitAfter(stdout.String(), "interrupted at step ")[1])[0]
			require.Equal(t, strings.TrimSuffix(step, ";"), stepOf(t, filepath.Join(out, lastFile)))
		})
	}
	t.Run("twice", func(t *testing.T) {
		// Steps of about a second, so that the second signal comes
		// during the step the first one waits for.
		out := t.TempDir()
		cmd, _, stderr := startTrain(t, "--data", data, "--batch", "64", "--val", "48", "--depth", "56",
			"--out", out, "--iters", "100000")
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		deadline := time.Now().Add(time.Minute)
		for !strings.Contains(stderr.String(), "stopping after this step") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		require.Equal(t, 130, exitCodeOf(t, cmd))
		require.Contains(t, stderr.String(), "again: stopped at once")
		stepOf(t, filepath.Join(out, lastFile)) // a checkpoint that loads
	})
}
