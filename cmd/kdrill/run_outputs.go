package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
)

// What a run leaves behind besides its reports: the summary, the new
// baseline, the names of files it could not write, and the exit code.

// writeSummary writes the Markdown summary where --summary says, or
// appends it to $GITHUB_STEP_SUMMARY; it returns the file written ("" for
// none).
func (o *RunOptions) writeSummary(res *model.Results, changes []reports.Change) (string, error) {
	return writeSummary(o.Summary, res, changes)
}

// writeSummary writes the Markdown summary to path, or appends it to
// $GITHUB_STEP_SUMMARY when path is empty; it returns the file written
// ("" for none).
func writeSummary(path string, res *model.Results, changes []reports.Change) (string, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if path == "" {
		path, flags = os.Getenv("GITHUB_STEP_SUMMARY"), os.O_CREATE|os.O_WRONLY|os.O_APPEND
	}
	if path == "" {
		return "", nil
	}
	f, err := os.OpenFile(path, flags, 0o644) //nolint:gosec // a summary is for the team to read
	if err == nil {
		err = reports.WriteSummary(f, res, changes)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return "", fmt.Errorf("summary %s: %w", path, err)
	}
	return path, nil
}

// keepGood makes a passing run's results the baseline of --baseline-dir,
// written aside and renamed so that a run killed meanwhile leaves the last
// good one whole.
func (o *RunOptions) keepGood(notes io.Writer, resultsPath string) error {
	if o.BaselineDir == "" {
		return nil
	}
	if o.baseline == nil {
		fmt.Fprintf(notes, "\nno baseline in %s yet: this run's results become it\n", o.BaselineDir)
	}
	data, err := os.ReadFile(resultsPath)
	if err == nil {
		err = os.MkdirAll(o.BaselineDir, 0o755)
	}
	dst := filepath.Join(o.BaselineDir, reports.ResultsFile)
	if err == nil {
		err = os.WriteFile(dst+".tmp", data, 0o644) //nolint:gosec // results are for the team to read, as results.json is
	}
	if err == nil {
		err = os.Rename(dst+".tmp", dst)
	}
	if err != nil {
		reportMissing(o.Stderr, []error{fmt.Errorf("the new baseline %s: %w", dst, err)})
		return exitCode(exitInfra)
	}
	fmt.Fprintf(notes, "baseline: %s (this run's)\n", dst)
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// reportMissing names the result files a run could not write.
func reportMissing(w io.Writer, missing []error) {
	for _, err := range missing {
		fmt.Fprintf(w, "kdrill: not written: %v\n", err)
	}
}

// outcomeExit turns a run's outcome into the command's result.
func outcomeExit(o model.Outcome) error {
	switch o {
	case model.Passed:
		return nil
	case model.Errored:
		return exitCode(exitInfra)
	case model.Cancelled:
		return exitCode(exitInterrupted)
	}
	return exitCode(exitFailed)
}
