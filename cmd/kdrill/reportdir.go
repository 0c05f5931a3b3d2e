package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// reportDir is a report directory a run has claimed: checked before the
// first request, and locked so that no other kdrill writes into it while
// this one runs.
type reportDir struct {
	Path string
	lock *os.File
}

// lockFile is the file in a report directory that a run holds locked.
const lockFile = ".kdrill.lock"

// claimReportDir checks and claims where a run's results go. With no
// directory given, each run gets a directory of its own under
// kdrill-report/, named by the time it started (with -2, -3, ... for runs
// started in the same second). A directory given is made if missing and
// must be a writable directory outside /proc, /sys and /dev; a second
// kdrill pointed at it while the first runs is refused, not mixed in.
func claimReportDir(dir string) (*reportDir, error) {
	if dir == "" {
		return claimFresh(filepath.Join("kdrill-report", time.Now().Format("20060102-150405")))
	}
	if err := checkReportPath(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, usagef("--report-dir %s: %v", dir, unwrapPath(err))
	}
	return lockReportDir(dir)
}

// claimFresh makes a new directory named base, or base-2, base-3, ...
func claimFresh(base string) (*reportDir, error) {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return nil, usagef("report directory %s: %v", filepath.Dir(base), unwrapPath(err))
	}
	for i := 1; i <= 1000; i++ {
		dir := base
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, usagef("report directory %s: %v", dir, unwrapPath(err))
		}
		return lockReportDir(dir)
	}
	return nil, usagef("report directory %s: a thousand runs started this second already", base)
}

// checkReportPath refuses a report directory in the kernel's own trees or
// one that exists as something other than a directory.
func checkReportPath(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return usagef("--report-dir %s: %v", dir, err)
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	for _, sys := range []string{"/proc", "/sys", "/dev"} {
		if abs == sys || strings.HasPrefix(abs, sys+"/") {
			return usagef("--report-dir %s is under %s, which holds no files: give a directory for the results", dir, sys)
		}
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return usagef("--report-dir %s is a file, not a directory: give a directory for the results", dir)
	}
	return nil
}

// lockReportDir checks that dir is writable and takes its lock: another
// kdrill holding it is refused with the pid it wrote.
func lockReportDir(dir string) (*reportDir, error) {
	probe, err := os.CreateTemp(dir, ".kdrill-probe-*")
	if err != nil {
		return nil, usagef("report directory %s is not writable: %v", dir, unwrapPath(err))
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, usagef("report directory %s: %v", dir, unwrapPath(err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(path)
		_ = f.Close()
		return nil, usagef("report directory %s is in use by another kdrill (pid %s): give each run its own --report-dir, or leave it out for a fresh one", dir, strings.TrimSpace(string(pid)))
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	return &reportDir{Path: dir, lock: f}, nil
}

// Release lets another run use the directory.
func (d *reportDir) Release() {
	if d != nil && d.lock != nil {
		_ = d.lock.Close()
		d.lock = nil
	}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
