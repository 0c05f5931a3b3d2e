package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner"
)

// ReportOptions are the inputs of kdrill report.
type ReportOptions struct {
	Results string
	OutDir  string
	Stdout  io.Writer

	results *runner.Results
}

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "render report.html, junit.xml and charts again from a results.json, without a cluster",
		ArgsUsage: "RESULTS.json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "directory to write into (default: beside RESULTS.json)"},
		},
		Subcommands: []*cli.Command{reportMergeCommand()},
		Action: func(c *cli.Context) error {
			o := &ReportOptions{Results: c.Args().First(), OutDir: c.String("out"), Stdout: c.App.Writer}
			if c.NArg() > 1 {
				return runner.Usagef("kdrill report: give one results file")
			}
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run()
		},
	}
}

// Validate checks that a results file is named.
func (o *ReportOptions) Validate() error {
	if o.Results == "" {
		return runner.Usagef("kdrill report: name a results.json")
	}
	return nil
}

// Complete reads the results.
func (o *ReportOptions) Complete() error {
	r, err := reports.ReadJSON(o.Results)
	if err != nil {
		return &runner.LoadError{File: o.Results, Msg: err.Error()}
	}
	o.results = r
	if o.OutDir == "" {
		o.OutDir = filepath.Dir(o.Results)
	}
	return nil
}

// Run renders the reports.
func (o *ReportOptions) Run() error {
	written, err := reports.WriteRenderings(o.OutDir, o.results)
	for _, p := range written {
		fmt.Fprintf(o.Stdout, "wrote: %s\n", p)
	}
	return err
}

func reportMergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "join the results of several runs (CI shards) into one results.json and report",
		ArgsUsage: "RESULTS.json...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Required: true, Usage: "directory to write the merged results and reports into"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return runner.Usagef("kdrill report merge: give two or more results files")
			}
			var runs []*runner.Results
			for _, path := range c.Args().Slice() {
				r, err := reports.ReadJSON(path)
				if err != nil {
					return &runner.LoadError{File: path, Msg: err.Error()}
				}
				runs = append(runs, r)
			}
			merged := reports.Merge(runs)
			out := c.String("out")
			if err := reports.WriteJSON(filepath.Join(out, reports.ResultsFile), merged); err != nil {
				return err
			}
			written, err := reports.WriteRenderings(out, merged)
			for _, p := range append([]string{filepath.Join(out, reports.ResultsFile)}, written...) {
				fmt.Fprintf(c.App.Writer, "wrote: %s\n", p)
			}
			if err != nil {
				return err
			}
			return outcomeExit(merged.Outcome)
		},
	}
}
