package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
)

// JUnitFile is the name of the JUnit report in a report directory.
const JUnitFile = "junit.xml"

// The JUnit schema as CI servers read it: one testsuite per scenario, one
// testcase per step. Class names are "kdrill.<scenario>" and test names the
// step's name (finally steps prefixed "finally: "); they stay stable across
// kdrill versions so CI history keeps matching.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	File       string          `xml:"file,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemErr  string          `xml:"system-err,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	// A retried scenario's earlier attempts, as Maven Surefire writes
	// reruns: rerun* when the step failed in the end too, flaky* when it
	// passed on a later attempt.
	RerunFailures []junitRerun `xml:"rerunFailure,omitempty"`
	RerunErrors   []junitRerun `xml:"rerunError,omitempty"`
	FlakyFailures []junitRerun `xml:"flakyFailure,omitempty"`
	FlakyErrors   []junitRerun `xml:"flakyError,omitempty"`
	SystemOut     string       `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// WriteJUnit renders the results as JUnit XML.
func WriteJUnit(w io.Writer, r *model.Results) error {
	doc := junitDocument(r)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encode JUnit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteJUnitFile writes junit.xml into dir atomically.
func WriteJUnitFile(dir string, r *model.Results) (string, error) {
	path := filepath.Join(dir, JUnitFile)
	var b strings.Builder
	if err := WriteJUnit(&b, r); err != nil {
		return "", err
	}
	return path, writeAtomic(path, []byte(b.String()))
}

func junitDocument(r *model.Results) junitSuites {
	doc := junitSuites{Name: "kdrill", Time: seconds3(r.FinishedAt.Sub(r.StartedAt).Seconds())}
	for _, s := range r.Scenarios {
		suite := junitSuite{
			Name: s.Name, File: s.File, Time: seconds3(s.DurationSeconds),
			Properties: []junitProperty{
				{"namespace", s.Namespace},
				{"seed", fmt.Sprint(s.Seed)},
				{"outcome", string(s.Outcome)},
			},
		}
		if len(s.Attempts) > 0 {
			suite.Properties = append(suite.Properties, junitProperty{"attempts", fmt.Sprint(s.Attempt)}, junitProperty{"flaky", fmt.Sprint(s.Flaky)})
		}
		if !s.StartedAt.IsZero() {
			suite.Timestamp = s.StartedAt.UTC().Format("2006-01-02T15:04:05")
		}
		for _, st := range s.Steps {
			name := st.Name
			if st.Phase == model.PhaseFinally {
				name = "finally: " + st.Name
			}
			c := junitCase{Name: name, Classname: "kdrill." + s.Name, Time: seconds3(st.DurationSeconds), File: s.File, Line: st.Line}
			switch st.Outcome {
			case model.Failed:
				c.Failure = &junitProblem{Message: problemMessage(st), Type: "failed", Text: problemText(st)}
				suite.Failures++
			case model.Errored, model.Cancelled:
				c.Error = &junitProblem{Message: problemMessage(st), Type: string(st.Outcome), Text: problemText(st)}
				suite.Errors++
			case model.NotApplicable:
				c.Skipped = &junitSkipped{Message: "not applicable: " + st.Error}
				suite.Skipped++
			case model.Skipped, model.Running:
				c.Skipped = &junitSkipped{Message: "not reached"}
				suite.Skipped++
			}
			addReruns(&c, s, st)
			c.SystemOut = diagnosticsText(st.Diagnostics)
			suite.Tests++
			suite.Cases = append(suite.Cases, c)
		}
		if s.Error != "" && s.Outcome != model.Passed {
			suite.SystemErr = s.Error
		}
		for _, o := range r.Outages {
			if overlaps(o, s) {
				suite.Properties = append(suite.Properties, junitProperty{"outage", outageLine(o)})
			}
		}
		if len(s.LeftBehind) > 0 {
			// What the run could not remove is counted by CI as an error.
			text := strings.Join(s.LeftBehind, "\n")
			suite.Cases = append(suite.Cases, junitCase{
				Name: "cleanup", Classname: "kdrill." + s.Name, Time: "0.000",
				Error: &junitProblem{Message: "left behind: " + message.FirstLine(text) + " (kdrill leftovers removes it)", Type: "leftBehind", Text: text},
			})
			suite.Tests++
			suite.Errors++
		}
		if len(s.Steps) == 0 || (s.StartedAt.IsZero() && s.Outcome == model.Errored) {
			// The scenario never ran (the cluster was unreachable): one case
			// says so, so CI counts it.
			suite.Cases = append(suite.Cases, junitCase{
				Name: "scenario", Classname: "kdrill." + s.Name, Time: "0.000",
				Error: &junitProblem{Message: message.FirstLine(s.Error), Type: string(s.Outcome), Text: s.Error},
			})
			suite.Tests++
			suite.Errors++
		}
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Skipped += suite.Skipped
		doc.Suites = append(doc.Suites, suite)
	}
	return doc
}

// problemMessage is a failure's one line: the error's first line and,
// when kdrill found one, the likeliest cause.
func problemMessage(st *model.StepResult) string {
	msg := message.FirstLine(st.Error)
	if d := st.Diagnostics; d != nil && len(d.Causes) > 0 {
		msg += "; likely cause: " + d.Causes[0]
	}
	return msg
}

// diagnosticsText is a failed step's diagnostics for system-out: every
// likely cause, and where the collected files are.
func diagnosticsText(d *model.Diagnostics) string {
	if d == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range d.Causes {
		fmt.Fprintf(&b, "likely cause: %s\n", c)
	}
	if len(d.Files) > 0 {
		fmt.Fprintf(&b, "diagnostics: %s/ (%s)\n", d.Dir, strings.Join(d.Files, ", "))
	}
	for _, s := range d.Skipped {
		fmt.Fprintf(&b, "not collected: %s\n", s)
	}
	return b.String()
}

// problemText is a failure's body: the whole error, the expression and the
// values it saw.
func problemText(st *model.StepResult) string {
	var b strings.Builder
	b.WriteString(st.Error)
	if st.Expression != "" {
		fmt.Fprintf(&b, "\nexpression: %s", st.Expression)
	}
	keys := slices.Sorted(maps.Keys(st.Values))
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %s = %v", k, st.Values[k])
	}
	return b.String()
}

func seconds3(s float64) string { return fmt.Sprintf("%.3f", s) }

// writeAtomic writes data to path through a temporary file and a rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close() // the first error is the one to report
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // the first error is the one to report
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // the first error is the one to report
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// overlaps says whether an outage fell within a scenario's run.
func overlaps(o model.Outage, s *model.ScenarioResult) bool {
	end := o.End
	if end.IsZero() {
		end = o.Start
	}
	return !s.StartedAt.IsZero() && !o.Start.After(s.FinishedAt) && !end.Before(s.StartedAt)
}
