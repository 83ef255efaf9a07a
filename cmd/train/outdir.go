package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vknn/vknn/checkpoint"
	"github.com/vknn/vknn/runlog"
)

// The files a run keeps in its folder.
const (
	lastFile = "last.safetensors"
	bestFile = "best.safetensors"
	plotFile = "errors.png"
	lockFile = ".lock"
)

// openOut prepares --out before any training: it must be writable (found
// now, not at the first save an epoch later); no other train may be using
// it (a lock the system drops when the process ends, however it ends); and
// it must hold no run unless the run is resumed or --overwrite deletes it.
// The returned file holds the lock until it is closed.
func openOut(o *options, dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	if err := probeWrite(dir); err != nil {
		return nil, fmt.Errorf("--out %s is not writable: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	held := false
	defer func() {
		if !held {
			lock.Close()
		}
	}()
	found := describeRun(dir)
	switch {
	case o.resume && !exists(filepath.Join(dir, lastFile)):
		return nil, fmt.Errorf("--resume: %s holds no run to continue (no %s)", dir, lastFile)
	case !o.resume && !o.overwrite && found != "":
		return nil, fmt.Errorf("%s holds a run (%s). Continue it with --resume (and its flags), "+
			"or start anew with another --out, or with --overwrite, which deletes it", dir, found)
	case o.overwrite:
		for _, name := range []string{lastFile, bestFile, runlog.MetricsFile, runlog.CurveFile, runlog.DoneFile, plotFile} {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("--overwrite: %w", err)
			}
		}
	}
	// Temporary files of saves cut short (kill -9, a second Ctrl-C): no
	// other run writes here while the lock is held.
	stale, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	for _, f := range stale {
		os.Remove(f)
	}
	held = true
	return lock, nil
}

// probeWrite creates and removes a file in dir.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return err
	}
	_, err = f.Write([]byte{0})
	err = errors.Join(err, f.Close(), os.Remove(f.Name()))
	return err
}

// lockDir takes dir's lock or says who holds it.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another train is using %s (%s); wait for it to end, or choose another --out",
				dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("--out: locking %s: %w", path, err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d, since %s\n", os.Getpid(), time.Now().Format(time.DateTime))
	return f, nil
}

// describeRun says what run dir holds, or "" for none.
func describeRun(dir string) string {
	var parts []string
	if f, err := checkpoint.Load(filepath.Join(dir, lastFile)); err == nil {
		parts = append(parts, fmt.Sprintf("%s of %s at step %s", lastFile, f.Metadata["arch"], f.Metadata["step"]))
	} else if _, serr := os.Stat(filepath.Join(dir, lastFile)); serr == nil {
		parts = append(parts, fmt.Sprintf("%s, unreadable: %v", lastFile, err))
	}
	if _, err := os.Stat(filepath.Join(dir, bestFile)); err == nil {
		parts = append(parts, bestFile)
	}
	if all, _, err := runlog.Epochs(filepath.Join(dir, runlog.MetricsFile)); err == nil {
		parts = append(parts, fmt.Sprintf("%d epochs in %s", len(all), runlog.MetricsFile))
	}
	return strings.Join(parts, ", ")
}
