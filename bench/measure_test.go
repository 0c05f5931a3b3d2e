package bench

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

// measured is a program run under GNU time, for its own peak RSS. Go starts
// a child with vfork, and Linux counts the parent's memory at the exec into
// the child's peak (ru_maxrss), so a child's rusage says at least the
// benchmark's own size (about 70 MiB); time starts the program with fork,
// so the peak it reports is the program's own.
type measured struct {
	*exec.Cmd
	rss string
}

// measure runs name with args under GNU time (Debian's package time, which
// hack/install-test-tools.sh installs). CPU times in the Cmd's
// ProcessState include the program's, as time waits for it.
func measure(b testing.TB, name string, args ...string) *measured {
	b.Helper()
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		b.Fatalf("GNU time is needed to measure peak RSS (hack/install-test-tools.sh installs Debian's package time): %v", err)
	}
	f, err := os.CreateTemp(b.TempDir(), "rss")
	if err != nil {
		b.Fatal(err)
	}
	_ = f.Close()
	return &measured{Cmd: exec.Command(timeBin, append([]string{"-f", "%M", "-o", f.Name(), name}, args...)...), rss: f.Name()}
}

// PeakRSS is the program's peak RSS in KiB, once it has exited.
func (m *measured) PeakRSS(b testing.TB) int64 {
	b.Helper()
	data, err := os.ReadFile(m.rss)
	if err != nil {
		b.Fatal(err)
	}
	// time writes "Command exited with non-zero status N" first, if so.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	kib, err := strconv.ParseInt(strings.TrimSpace(lines[len(lines)-1]), 10, 64)
	if err != nil {
		b.Fatalf("GNU time's report %q: %v", data, err)
	}
	return kib
}

// ProgramPid is the program's pid (time's child), once it has started.
func (m *measured) ProgramPid(b testing.TB) int {
	b.Helper()
	pid := strconv.Itoa(m.Process.Pid)
	children := filepath.Join("/proc", pid, "task", pid, "children")
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for range 1000 {
		<-tick.C
		if data, err := os.ReadFile(children); err == nil && len(bytes.TrimSpace(data)) > 0 {
			child, err := strconv.Atoi(strings.Fields(string(data))[0])
			if err != nil {
				b.Fatal(err)
			}
			return child
		}
	}
	b.Fatalf("time (pid %s) started no program", pid)
	return 0
}

// resetPeakRSS returns the memory the heap no longer uses and starts this
// process's VmHWM again from its RSS then, so an in-process benchmark's
// peak is its own, not that of the benchmarks the process ran before it.
func resetPeakRSS(b testing.TB) {
	b.Helper()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatalf("reset the peak RSS: %v", err)
	}
}

// ownPeakRSS is this process's own peak RSS in KiB (VmHWM): getrusage
// would count the go command that started it (see measured).
func ownPeakRSS(b testing.TB) int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kib
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// results runs kdrill (measured) to its end and returns its output, its
// wall time, its peak RSS in KiB and the results it wrote into reportDir;
// it fails the benchmark when kdrill fails.
func (m *measured) results(b testing.TB, reportDir string) (out []byte, wall time.Duration, peak int64, res *model.Results) {
	b.Helper()
	start := time.Now()
	out, err := m.CombinedOutput()
	wall = time.Since(start)
	if err != nil {
		b.Fatalf("kdrill: %v\n%s", err, out)
	}
	res, err = reports.ReadJSON(filepath.Join(reportDir, reports.ResultsFile))
	if err != nil {
		b.Fatal(err)
	}
	return out, wall, m.PeakRSS(b), res
}
