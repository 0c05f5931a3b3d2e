// Package reports renders a recorded run (model.Results) for people and
// machines. It reads results only and never talks to a cluster.
package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kdrill/kdrill/model"
)

// ResultsFile is the name of the results file in a report directory.
const ResultsFile = "results.json"

// WriteJSON writes the results to path atomically: a temporary file in the
// same directory, synced, then renamed over path, so a reader (or a killed
// run) never sees half a file. The JSON is compact: the file is rewritten
// as a run goes, and read back by kdrill report, compare and trend, and
// indentation doubles a long chaos run's file and the time to read it
// (jq . results.json shows it indented).
func WriteJSON(path string, r *model.Results) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return writeAtomic(path, append(data, '\n'))
}

// ReadJSON loads a results file.
func ReadJSON(path string) (*model.Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r model.Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a kdrill results file: %w", path, err)
	}
	if r.Kind != model.ResultsKind {
		return nil, fmt.Errorf("%s: kind is %q, not %s", path, r.Kind, model.ResultsKind)
	}
	if r.FormatVersion > model.ResultsVersion {
		return nil, fmt.Errorf("%s: results format %d is newer than this kdrill reads (%d)", path, r.FormatVersion, model.ResultsVersion)
	}
	// Each output is typed as it is read (model.StepResult.UnmarshalJSON),
	// as a live run has it.
	return &r, nil
}

// JSONWriter is a model.Observer that writes results.json as the run
// goes: when a scenario or the run finishes, and after a step finishes at
// most once a second (a suite of quick steps would otherwise rewrite and
// sync the whole file for each). A run that is killed outright loses at
// most its last second of steps.
type JSONWriter struct {
	Path string
	// Err is the last write error, if any.
	Err error

	mu   sync.Mutex
	last time.Time
}

// stepBatch is the longest a finished step waits to be written.
const stepBatch = time.Second

// Observe writes the file as the events say.
func (w *JSONWriter) Observe(ev model.Event, r *model.Results, _ *model.ScenarioResult, _ *model.StepResult) {
	if ev == model.StepStarted || ev == model.StepProgress {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if ev == model.StepFinished && time.Since(w.last) < stepBatch {
		return
	}
	w.last = time.Now()
	if err := WriteJSON(w.Path, r); err != nil {
		w.Err = err
	}
}

// WriteRenderings writes everything rendered from the results into dir —
// the availability charts, junit.xml and report.html — and returns the
// paths written. results.json itself is written as the run goes.
func WriteRenderings(dir string, r *model.Results) ([]string, error) {
	charts, err := AvailabilityCharts(r)
	return writeRenderings(dir, r, charts, err)
}

// writeRenderings writes the renderings with the run's charts drawn (or
// the error that stopped their drawing).
func writeRenderings(dir string, r *model.Results, charts []Chart, chartErr error) ([]string, error) {
	if chartErr != nil {
		return nil, chartErr
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// Each file is tried even when one before it failed (a full disk may
	// take a large chart and leave room for junit.xml); every one missing is
	// named.
	// The charts are drawn once, for their files and for report.html.
	var errs []error
	paths, err := writeCharts(dir, charts)
	errs = append(errs, err)
	diag, err := WriteDiagnostics(dir, r)
	paths = append(paths, diag...)
	errs = append(errs, err)
	if junit, err := WriteJUnitFile(dir, r); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", filepath.Join(dir, JUnitFile), err))
	} else {
		paths = append(paths, junit)
	}
	if html, err := writeHTMLFile(dir, r, charts); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", filepath.Join(dir, HTMLFile), err))
	} else {
		paths = append(paths, html)
	}
	return paths, errors.Join(errs...)
}

// Merge joins the results of several runs (CI shards, say) into one: all
// their scenarios, the earliest start, the latest finish and the worst
// outcome.
func Merge(runs []*model.Results) *model.Results {
	out := &model.Results{APIVersion: model.APIVersion, Kind: model.ResultsKind, FormatVersion: model.ResultsVersion}
	for i, r := range runs {
		if i == 0 {
			out.KdrillVersion, out.Cluster = r.KdrillVersion, r.Cluster
		}
		if out.StartedAt.IsZero() || r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = r.FinishedAt
		}
		out.Scenarios = append(out.Scenarios, r.Scenarios...)
	}
	out.Outcome = out.Worst()
	return out
}

// WriteDiagnostics writes the files failed steps' diagnostics collected
// under dir, and returns the directories written. Results read back from
// results.json have none in memory: their files are already there.
func WriteDiagnostics(dir string, r *model.Results) ([]string, error) {
	var written []string
	for _, s := range r.Scenarios {
		for _, st := range s.Steps {
			d := st.Diagnostics
			if d == nil || len(d.Contents) == 0 {
				continue
			}
			for _, name := range d.Files {
				if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(d.Dir), filepath.Base(name)), d.Contents[name]); err != nil {
					return written, err
				}
			}
			written = append(written, filepath.Join(dir, filepath.FromSlash(d.Dir))+string(filepath.Separator))
		}
	}
	return written, nil
}
