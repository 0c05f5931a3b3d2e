// Package reports renders a recorded run (runner.Results) for people and
// machines. It reads results only and never talks to a cluster.
package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kdrill/kdrill/runner"
)

// ResultsFile is the name of the results file in a report directory.
const ResultsFile = "results.json"

// WriteJSON writes the results to path atomically: a temporary file in the
// same directory, synced, then renamed over path, so a reader (or a killed
// run) never sees half a file.
func WriteJSON(path string, r *runner.Results) error {
	var data []byte
	var err error
	r.Read(func() { data, err = json.MarshalIndent(r, "", "  ") })
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".results-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadJSON loads a results file.
func ReadJSON(path string) (*runner.Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r runner.Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a kdrill results file: %w", path, err)
	}
	if r.Kind != runner.ResultsKind {
		return nil, fmt.Errorf("%s: kind is %q, not %s", path, r.Kind, runner.ResultsKind)
	}
	if r.FormatVersion > runner.ResultsVersion {
		return nil, fmt.Errorf("%s: results format %d is newer than this kdrill reads (%d)", path, r.FormatVersion, runner.ResultsVersion)
	}
	return &r, nil
}

// JSONWriter is a runner.Observer that rewrites results.json whenever a
// step or scenario finishes.
type JSONWriter struct {
	Path string
	// Err is the last write error, if any.
	Err error
}

// Observe writes the file on every event except a step's start.
func (w *JSONWriter) Observe(ev runner.Event, r *runner.Results, _ *runner.ScenarioResult, _ *runner.StepResult) {
	if ev == runner.StepStarted {
		return
	}
	if err := WriteJSON(w.Path, r); err != nil {
		w.Err = err
	}
}
