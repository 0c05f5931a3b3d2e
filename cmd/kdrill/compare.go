package main

import (
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/scenario"
)

// CompareOptions are the inputs of kdrill compare.
type CompareOptions struct {
	Baseline, Current string
	Tolerance         string
	SecondsSlack      time.Duration
	Stdout            io.Writer

	tolerance         reports.Tolerance
	baseline, current *model.Results
}

func toleranceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tolerance", Value: "20%", Usage: "how much worse than the baseline a metric may get"},
		&cli.DurationFlag{Name: "seconds-slack", Value: 250 * time.Millisecond, Usage: "added to the tolerance of durations, for timing noise"},
	}
}

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare a run's metrics with a baseline run's; exit 1 when one got worse",
		ArgsUsage: "BASELINE.json CURRENT.json",
		Flags:     toleranceFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("kdrill compare: give BASELINE.json and CURRENT.json")
			}
			o := &CompareOptions{
				Baseline: c.Args().Get(0), Current: c.Args().Get(1), Tolerance: c.String("tolerance"),
				SecondsSlack: c.Duration("seconds-slack"), Stdout: c.App.Writer,
			}
			return validateCompleteRun(o, o.Run)
		},
	}
}

// Validate reads the tolerance.
func (o *CompareOptions) Validate() error {
	t, err := parseTolerance(o.Tolerance, o.SecondsSlack)
	o.tolerance = t
	return err
}

// parseTolerance reads "20%" or "0.2".
func parseTolerance(s string, slack time.Duration) (reports.Tolerance, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err == nil && strings.HasSuffix(s, "%") {
		v /= 100
	}
	if err != nil || v < 0 {
		return reports.Tolerance{}, usagef("--tolerance %q: want a share such as 20%% or 0.2", s)
	}
	if !strings.HasSuffix(s, "%") && v > 1 {
		return reports.Tolerance{}, usagef("--tolerance %s: a bare number is a share (0.2 is 20%%); write %s%% if you mean %s percent", s, s, s)
	}
	if slack < 0 {
		return reports.Tolerance{}, usagef("--seconds-slack must not be negative")
	}
	return reports.Tolerance{Relative: v, SecondsSlack: slack.Seconds()}, nil
}

// Complete reads both results files.
func (o *CompareOptions) Complete() error {
	var err error
	if o.baseline, err = reports.ReadJSON(o.Baseline); err != nil {
		return &scenario.LoadError{File: o.Baseline, Msg: err.Error()}
	}
	if o.current, err = reports.ReadJSON(o.Current); err != nil {
		return &scenario.LoadError{File: o.Current, Msg: err.Error()}
	}
	return nil
}

// Run prints the regressions.
func (o *CompareOptions) Run() error {
	return compareRuns(o.Stdout, o.baseline, o.current, o.tolerance)
}

// compareRuns prints what got worse and fails the command when anything did.
func compareRuns(w io.Writer, baseline, current *model.Results, tol reports.Tolerance) error {
	if n := reports.WriteComparison(w, reports.Compare(baseline, current, tol)); n > 0 {
		return exitCode(exitFailed)
	}
	return nil
}
