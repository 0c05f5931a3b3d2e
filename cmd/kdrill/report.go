package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/scenario"
)

// ReportOptions are the inputs of kdrill report.
type ReportOptions struct {
	Results string
	OutDir  string
	Stdout  io.Writer

	results *model.Results
}

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "render report.html, junit.xml and charts again from a results.json, without a cluster",
		ArgsUsage: "RESULTS.json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "directory to write into (default: beside RESULTS.json)"},
		},
		Subcommands: []*cli.Command{reportMergeCommand(), reportTrendCommand()},
		Action: func(c *cli.Context) error {
			o := &ReportOptions{Results: c.Args().First(), OutDir: c.String("out"), Stdout: c.App.Writer}
			if c.NArg() > 1 {
				return usagef("kdrill report: give one results file")
			}
			return validateCompleteRun(o, o.Run)
		},
	}
}

// Validate checks that a results file is named.
func (o *ReportOptions) Validate() error {
	if o.Results == "" {
		return usagef("kdrill report: name a results.json")
	}
	return nil
}

// Complete reads the results.
func (o *ReportOptions) Complete() error {
	r, err := reports.ReadJSON(o.Results)
	if err != nil {
		return &scenario.LoadError{File: o.Results, Msg: err.Error()}
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
		ArgsUsage: "RESULTS.json|DIR...",
		Description: "Each argument is a results.json, or a directory whose results.json files (its own, and one level down: " +
			"DIR/shard-*/results.json, as the shards of deploy/indexed-job.yaml write them) are all taken. --shards N fails " +
			"(exit 3) unless N results were found: a shard that wrote nothing is named as missing, not merged away.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Required: true, Usage: "directory to write the merged results and reports into"},
			&cli.IntFlag{Name: "shards", Usage: "the number of results expected (an Indexed Job's completions); fewer is an error"},
			&cli.StringFlag{Name: "summary", Usage: "write the merged run's Markdown summary to this file; default: appended to $GITHUB_STEP_SUMMARY when that is set"},
		},
		Action: func(c *cli.Context) error {
			files, err := resultsFiles(c.Args().Slice(), c.String("out"))
			if err != nil {
				return err
			}
			if n := c.Int("shards"); n > 0 && len(files) != n {
				return &kube.InfraError{Err: fmt.Errorf("found %d results of %d shards (%s): a shard wrote none", len(files), n, strings.Join(files, ", "))}
			}
			if len(files) < 2 && c.Int("shards") != 1 {
				return usagef("kdrill report merge: give two or more results files, or directories holding them")
			}
			var runs []*model.Results
			for _, path := range files {
				r, err := reports.ReadJSON(path)
				if err != nil {
					return &scenario.LoadError{File: path, Msg: err.Error()}
				}
				runs = append(runs, r)
			}
			merged := reports.Merge(runs)
			out := c.String("out")
			if err := reports.WriteJSON(filepath.Join(out, reports.ResultsFile), merged); err != nil {
				return err
			}
			written, err := reports.WriteRenderings(out, merged)
			if p, serr := writeSummary(c.String("summary"), merged, nil); serr != nil {
				err = errors.Join(err, serr)
			} else if p != "" {
				written = append(written, p)
			}
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

// resultsFiles expands the arguments of report merge: a directory stands
// for the results.json files in it and one level down, in name order; the
// output directory is left out, so merging again does not take in the
// last merge.
func resultsFiles(args []string, out string) ([]string, error) {
	var files []string
	outAbs, _ := filepath.Abs(out)
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, &scenario.LoadError{File: a, Msg: err.Error()}
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(a, reports.ResultsFile))
		deeper, _ := filepath.Glob(filepath.Join(a, "*", reports.ResultsFile))
		for _, f := range append(found, deeper...) {
			if abs, _ := filepath.Abs(filepath.Dir(f)); abs != outAbs {
				files = append(files, f)
			}
		}
	}
	return files, nil
}

// TrendOptions are the inputs of kdrill report trend.
type TrendOptions struct {
	Results []string
	Metrics []string
	OutDir  string
	Stdout  io.Writer

	runs []*model.Results
}

func reportTrendCommand() *cli.Command {
	return &cli.Command{
		Name:      "trend",
		Usage:     "chart metrics across many runs (nights): trend-METRIC.png, trend.csv and a table",
		ArgsUsage: "RESULTS.json...",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "metric", Aliases: []string{"m"}, Usage: "a metric name or pattern, * for any text (repeatable; default: " + strings.Join(reports.DefaultTrendMetrics, ", ") + ")"},
			&cli.StringFlag{Name: "out", Value: filepath.Join("kdrill-report", "trend"), Usage: "directory to write the charts and trend.csv into"},
		},
		Action: func(c *cli.Context) error {
			o := &TrendOptions{Results: c.Args().Slice(), Metrics: c.StringSlice("metric"), OutDir: c.String("out"), Stdout: c.App.Writer}
			return validateCompleteRun(o, o.Run)
		},
	}
}

// Validate checks that results are named.
func (o *TrendOptions) Validate() error {
	if len(o.Results) == 0 {
		return usagef("kdrill report trend: name the results.json of one or more runs")
	}
	if len(o.Metrics) == 0 {
		o.Metrics = reports.DefaultTrendMetrics
	}
	return nil
}

// Complete reads every run.
func (o *TrendOptions) Complete() error {
	for _, path := range o.Results {
		r, err := reports.ReadJSON(path)
		if err != nil {
			return &scenario.LoadError{File: path, Msg: err.Error()}
		}
		o.runs = append(o.runs, r)
	}
	return nil
}

// Run prints the table and writes the charts and the CSV.
func (o *TrendOptions) Run() error {
	series := reports.Trend(o.runs, o.Metrics)
	if len(series) == 0 {
		return usagef("no metric in these runs matches %s; kdrill compare lists the names", strings.Join(o.Metrics, ", "))
	}
	reports.WriteTrendTable(o.Stdout, series)
	reports.WriteFlips(o.Stdout, reports.Flips(o.runs))
	charts, err := reports.TrendCharts(series)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	var csvBuf bytes.Buffer
	if err := reports.WriteTrendCSV(&csvBuf, series); err != nil {
		return err
	}
	files := map[string][]byte{"trend.csv": csvBuf.Bytes()}
	for _, c := range charts {
		files[c.File] = c.PNG
	}
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		p := filepath.Join(o.OutDir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "wrote: %s\n", p)
	}
	return nil
}
