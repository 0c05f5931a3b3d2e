package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/reports"
	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/scenario"
)

// RunOptions are the inputs of kdrill run.
type RunOptions struct {
	Paths      []string
	Connection kube.Connection
	// Connections, when more than one, run every scenario on each cluster
	// (--context a --context b, or several --kubeconfig); empty: Connection.
	Connections    []kube.Connection
	Namespace      string
	Set            []string
	ReportDir      string
	Timeout        time.Duration
	CleanupTimeout time.Duration
	// ProbeImage is --probe-image.
	ProbeImage string
	Seed       int64
	LogLevel   string
	// Selector picks scenarios by their metadata.labels.
	Selector string
	// Shard is "K/N": run the K-th of N deterministic shares.
	Shard string
	// Shards is N with K from $JOB_COMPLETION_INDEX (an Indexed Job's).
	Shards int
	// FailFast stops after the first scenario that does not pass.
	FailFast bool
	// Parallel runs this many scenarios at once, each in its own namespace.
	Parallel int
	// Retries re-runs a failed scenario up to this many more times.
	Retries int
	// Output is how progress is printed: text, or json (one event a line).
	Output string
	// Quiet prints only scenario outcomes and failures; Verbose adds step
	// starts and the values passing checks saw.
	Quiet, Verbose bool
	// AllowContexts are kubeconfig contexts (patterns) scenarios that delete
	// or kill may run against, besides local clusters'.
	AllowContexts []string
	// AllowOutsidePaths lets manifest paths leave their scenario's directory.
	AllowOutsidePaths bool
	// DryRun prints what each step would do; every write is a server-side
	// dry run and no namespace is created.
	DryRun bool
	// KeepNamespace leaves the namespace a scenario ran in: never,
	// on-failure or always.
	KeepNamespace string
	// PauseOnFailure stops, on a terminal, before a failed scenario's
	// finally steps and cleanup, until Enter.
	PauseOnFailure bool
	// Stdin is where --pause-on-failure reads Enter from.
	Stdin io.Reader
	// Baseline is a results.json to compare this run's metrics with.
	Baseline string
	// BaselineDir keeps the last good run's results.json: compared with
	// when there, and replaced by this run's when it passes.
	BaselineDir string
	// Summary is where a Markdown summary goes (--summary; else
	// $GITHUB_STEP_SUMMARY, appended to, when set).
	Summary      string
	Tolerance    string
	SecondsSlack time.Duration

	Stdout, Stderr io.Writer

	scenarios []*scenario.Scenario
	vars      map[string]string
	cluster   *kube.Cluster
	dir       *reportDir                    // claimed in Complete
	results   atomic.Pointer[model.Results] // the run's record while it goes
	named     map[string]*kube.Cluster
	// over are the clusters every scenario runs on, in a run over several.
	over     []*kube.Cluster
	logger   *slog.Logger
	baseline *model.Results
}

// kubeconfigFlags are kubectl's flags for choosing a cluster.
func kubeconfigFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "kubeconfig", Usage: "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)"},
		&cli.StringFlag{Name: "context", Usage: "kubeconfig context to use (default: the current context)"},
	}
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run scenario files, or every scenario in directories",
		ArgsUsage: "PATH...",
		Flags: append(append([]cli.Flag{
			&cli.StringSliceFlag{Name: "kubeconfig", Usage: "path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster); repeat it to run every scenario on each file's cluster"},
			&cli.StringSliceFlag{Name: "context", Usage: "kubeconfig context to use (default: the current context); repeat it to run every scenario on each context"},
			&cli.StringFlag{Name: "namespace", Aliases: []string{"n"}, Usage: "run every scenario in this existing namespace, never deleted (default: the scenario's, or a fresh one per run)"},
		},
			&cli.StringSliceFlag{Name: "set", Usage: "override a scenario var: --set replicas=5 (repeatable; the value is read as YAML)"},
			&cli.StringFlag{Name: "report-dir", Usage: "where results go (default: ./kdrill-report/<timestamp>)"},
			&cli.DurationFlag{Name: "timeout", Usage: "bound each scenario, replacing its spec.timeout"},
			&cli.DurationFlag{Name: "cleanup-timeout", Value: runner.DefaultCleanupTimeout, Usage: "bound finally steps and namespace deletion after an interrupt or timeout"},
			&cli.StringFlag{Name: "probe-image", EnvVars: []string{"KDRILL_PROBE_IMAGE"}, Usage: "the image of kdrill's own probe pods (does the cluster enforce NetworkPolicy?); it needs nc (-z -w, -l -k -p) and sleep (default: the probing pod's own image)"},
			&cli.Int64Flag{Name: "seed", Usage: "seed for random choices (default: drawn, and recorded in results)"},
			&cli.StringFlag{Name: "log-level", Value: "warn", Usage: "debug, info, warn or error; logs go to stderr"},
			&cli.StringFlag{Name: "selector", Aliases: []string{"l"}, Usage: "run only scenarios whose metadata.labels match, e.g. -l area=chaos"},
			&cli.StringFlag{Name: "shard", Usage: "run the K-th of N deterministic shares of the scenarios, e.g. --shard 2/4"},
			&cli.IntFlag{Name: "shards", Usage: "run this pod's share of N: the share is $JOB_COMPLETION_INDEX (0-based), which an Indexed Job's controller sets (see deploy/indexed-job.yaml)"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "stop after the first scenario that does not pass"},
			&cli.IntFlag{Name: "parallel", Value: 1, Usage: "run up to N scenarios at once, each in its own namespace"},
			&cli.IntFlag{Name: "retries", Usage: "re-run a failed scenario up to N more times, in a fresh namespace; one that passes later is reported flaky (spec.retries overrides)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "progress on stdout: text, or json (one event per line, for other tools)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only scenario outcomes and failures"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "also print step starts and the values passing checks saw"},
			allowOutsidePathsFlag(),
			&cli.StringFlag{Name: "keep-namespace", Value: string(runner.KeepNever), Usage: "leave the namespace a scenario created, for inspection: never, on-failure or always (the console says how to look and how to delete it)"},
			&cli.BoolFlag{Name: "pause-on-failure", Usage: "on a terminal, stop before a failed scenario's finally steps and cleanup, say where to look, and go on at Enter (not with CI=true or without a terminal)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan (objects to apply, the kill schedule and victims for the seed) and send only server-side dry-run writes"},
			&cli.StringSliceFlag{Name: "allow-context", Usage: "a kubeconfig context (or pattern, * for any text) where scenarios may delete and kill; local clusters' (kwok-*, kind-*, k3d-*, minikube, docker-desktop) always are (repeatable)"},
			&cli.StringFlag{Name: "baseline", Usage: "a results.json of a good run: exit 1 when a metric got worse than there"},
			&cli.StringFlag{Name: "summary", Usage: "write a Markdown summary (outcome, scenarios, failures with their likely causes, metrics against the baseline) to this file; default: appended to $GITHUB_STEP_SUMMARY when that is set, as GitHub Actions shows job summaries"},
			&cli.StringFlag{Name: "baseline-dir", Usage: "a directory that keeps the last good run's results.json: compared with when there (exit 1 when a metric got worse), and replaced by this run's when it passes (a nightly job's memory)"},
		), toleranceFlags()...),
		Action: func(c *cli.Context) error {
			o := &RunOptions{
				Paths:             c.Args().Slice(),
				Connections:       connections(c.StringSlice("kubeconfig"), c.StringSlice("context")),
				Namespace:         c.String("namespace"),
				Set:               c.StringSlice("set"),
				ReportDir:         c.String("report-dir"),
				Timeout:           c.Duration("timeout"),
				CleanupTimeout:    c.Duration("cleanup-timeout"),
				Seed:              c.Int64("seed"),
				ProbeImage:        c.String("probe-image"),
				LogLevel:          c.String("log-level"),
				Selector:          c.String("selector"),
				Shard:             c.String("shard"),
				Shards:            c.Int("shards"),
				FailFast:          c.Bool("fail-fast"),
				Parallel:          c.Int("parallel"),
				Retries:           c.Int("retries"),
				Output:            c.String("output"),
				Quiet:             c.Bool("quiet"),
				Verbose:           c.Bool("verbose"),
				AllowContexts:     c.StringSlice("allow-context"),
				AllowOutsidePaths: c.Bool("allow-outside-paths"),
				DryRun:            c.Bool("dry-run"),
				KeepNamespace:     c.String("keep-namespace"),
				PauseOnFailure:    c.Bool("pause-on-failure"),
				Stdin:             os.Stdin,
				Baseline:          c.String("baseline"),
				BaselineDir:       c.String("baseline-dir"),
				Summary:           c.String("summary"),
				Tolerance:         c.String("tolerance"),
				SecondsSlack:      c.Duration("seconds-slack"),
				Stdout:            c.App.Writer,
				Stderr:            c.App.ErrWriter,
			}
			return validateCompleteRun(o, func() error { return o.Run(c.Context) })
		},
	}
}

// Complete loads and validates every scenario, then builds the cluster
// clients. It sends nothing to the cluster.
func (o *RunOptions) Complete() error {
	var skipped io.Writer
	if o.Verbose {
		skipped = o.Stderr
	}
	o.vars, _ = parseSet(o.Set)
	scenarios, err := loadScenarios(o.Paths, scenario.LoadOptions{AllowOutsidePaths: o.AllowOutsidePaths, Set: o.vars}, skipped)
	if err != nil {
		return err
	}
	// A lab grades an existing namespace. Named on its own without one, it
	// is a mistake; found in a directory, it is left for kdrill grade.
	for _, s := range scenarios {
		if s.Spec.Lab == nil || o.Namespace != "" || s.Spec.Namespace != "" {
			o.scenarios = append(o.scenarios, s)
			continue
		}
		if slices.Contains(o.Paths, s.File) {
			return usagef("%s is a lab: it grades an existing namespace; give -n NAMESPACE (or use kdrill grade)", s.File)
		}
		fmt.Fprintf(o.Stderr, "skipping lab %s: grade a namespace with kdrill grade %s -n NAMESPACE\n", s.File, s.File)
	}
	if len(o.scenarios) == 0 {
		return usagef("no scenarios to run in %s (only labs, which need -n)", strings.Join(o.Paths, ", "))
	}
	if o.scenarios, err = selectScenarios(o.scenarios, o.Selector, o.Shard); err != nil {
		return err
	}
	if len(o.scenarios) == 0 {
		return usagef("no scenario matches --selector %q --shard %q", o.Selector, o.Shard)
	}
	if err := checkSetVars(o.vars, scenarios); err != nil {
		return err
	}
	level, _ := parseLevel(o.LogLevel)
	o.logger = slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: o.redactAttr}))
	if o.BaselineDir != "" {
		if fi, err := os.Stat(o.BaselineDir); err == nil && !fi.IsDir() {
			return usagef("--baseline-dir %s is not a directory", o.BaselineDir)
		}
		if last := filepath.Join(o.BaselineDir, reports.ResultsFile); fileExists(last) {
			o.Baseline = last
		}
	}
	if o.Baseline != "" {
		if o.baseline, err = reports.ReadJSON(o.Baseline); err != nil {
			return &scenario.LoadError{File: o.Baseline, Msg: err.Error()}
		}
	}
	if err := o.connect(); err != nil || o.DryRun {
		return err
	}
	// Checked and claimed before the first request: a night's results are
	// not lost to a directory that cannot take them.
	if o.dir, err = claimReportDir(o.ReportDir); err != nil {
		return err
	}
	o.ReportDir = o.dir.Path
	return nil
}

// Run runs the scenarios, writing results.json as they go, and returns an
// exitCode for a failed or broken run.
func (o *RunOptions) Run(ctx context.Context) error {
	defer o.dir.Release()
	resultsPath := filepath.Join(o.ReportDir, reports.ResultsFile)
	writer := &reports.JSONWriter{Path: resultsPath}
	console := reports.NewConsole(o.Stdout, o.Quiet, o.Verbose, o.Parallel > 1)
	console.Total = len(o.scenarios) * max(1, len(o.over))
	var progress model.Observer = console
	notes := o.Stdout // where the paths written go
	if o.Output == "json" {
		progress, notes = &reports.JSONLines{W: o.Stdout}, o.Stderr
	}
	observers := []model.Observer{progress} // a dry run's plan is printed, not recorded
	var charts *reports.Prerender
	if !o.DryRun {
		// Each scenario's charts are drawn as it finishes, while the
		// others still run.
		charts = reports.NewPrerender()
		observers = append(observers, writer, resultsTap{&o.results}, charts)
	}
	hardExit := func() { o.abandon(writer.Path) }
	onHardExit.Store(&hardExit)
	defer onHardExit.Store(nil)
	res := runner.Run(runner.WithLogger(ctx, o.logger), o.scenarios, runner.Options{
		Cluster:        o.cluster,
		Clusters:       o.named,
		Over:           o.over,
		Namespace:      o.Namespace,
		Timeout:        o.Timeout,
		CleanupTimeout: o.CleanupTimeout,
		Seed:           o.Seed,
		ProbeImage:     o.ProbeImage,
		SelfNode:       os.Getenv("KDRILL_NODE_NAME"),
		FailFast:       o.FailFast,
		Parallel:       o.Parallel,
		Retries:        o.Retries,
		AllowContexts:  o.AllowContexts,
		KeepNamespace:  runner.KeepPolicy(o.KeepNamespace),
		PauseOnFailure: o.pauser(),
		KdrillVersion:  versionString(),
		Observers:      observers,
	})
	if ctx.Err() != nil {
		// A copy: the observers' last snapshot stays as they saw it.
		res = res.Snapshot()
		res.Interrupted = true
	}
	if o.DryRun {
		fmt.Fprintln(notes, "dry run: every write was a server-side dry run; nothing was changed")
		return outcomeExit(res.Outcome)
	}
	// The last write of results.json is the one that counts.
	var missing []error
	if err := reports.WriteJSON(resultsPath, res); err != nil {
		missing = append(missing, fmt.Errorf("%s: %w", resultsPath, err))
	} else {
		fmt.Fprintf(notes, "results: %s\n", resultsPath)
	}
	written, err := charts.WriteRenderings(o.ReportDir, res)
	if err != nil {
		missing = append(missing, err)
	}
	for _, p := range written {
		fmt.Fprintf(notes, "wrote: %s\n", p)
	}
	var changes []reports.Change
	if o.baseline != nil {
		tol, _ := parseTolerance(o.Tolerance, o.SecondsSlack)
		changes = reports.Compare(o.baseline, res, tol)
	}
	if p, err := o.writeSummary(res, changes); err != nil {
		missing = append(missing, err)
	} else if p != "" {
		fmt.Fprintf(notes, "wrote: %s\n", p)
	}
	if err := outcomeExit(res.Outcome); err != nil {
		reportMissing(o.Stderr, missing)
		return err
	}
	if len(missing) > 0 {
		// A run whose results are missing has not passed as far as anyone
		// reading them can tell: the infrastructure (a full disk) failed.
		reportMissing(o.Stderr, missing)
		return exitCode(exitInfra)
	}
	if o.baseline != nil {
		fmt.Fprintf(notes, "\ncompared with %s: ", o.Baseline)
		if n := reports.WriteComparison(notes, changes); n > 0 {
			return exitCode(exitFailed)
		}
	}
	return o.keepGood(notes, resultsPath)
}
