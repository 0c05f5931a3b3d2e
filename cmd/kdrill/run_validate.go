package main

import (
	"os"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/kdrill/kdrill/runner"
	"github.com/kdrill/kdrill/scenario"
)

// Validate checks the flags for mistakes a person can fix, before anything
// is read or sent.
func (o *RunOptions) Validate() error {
	if len(o.Paths) == 0 {
		return usagef("kdrill run: name at least one scenario file or directory")
	}
	if _, err := parseSet(o.Set); err != nil {
		return err
	}
	if _, err := parseLevel(o.LogLevel); err != nil {
		return err
	}
	if o.Timeout < 0 || o.CleanupTimeout < 0 {
		return usagef("--timeout and --cleanup-timeout must not be negative")
	}
	if _, err := labels.Parse(o.Selector); err != nil {
		return usagef("--selector %q: %v", o.Selector, err)
	}
	if o.Shards != 0 {
		shard, err := indexedShard(o.Shard, o.Shards, os.Getenv("JOB_COMPLETION_INDEX"))
		if err != nil {
			return err
		}
		o.Shard = shard
	}
	if _, _, err := parseShard(o.Shard); err != nil {
		return err
	}
	if o.Output == "" {
		o.Output = "text"
	}
	if o.Parallel < 1 {
		return usagef("--parallel %d: want 1 or more", o.Parallel)
	}
	if o.Retries < 0 || o.Retries > scenario.MaxRetries {
		return usagef("--retries %d: want 0 to %d", o.Retries, scenario.MaxRetries)
	}
	if o.Retries > 0 && o.Namespace != "" {
		return usagef("--retries runs a failed scenario again in a fresh namespace; it does not go with -n")
	}
	if o.Parallel > 1 && o.Namespace != "" {
		return usagef("--parallel runs each scenario in its own namespace; it does not go with -n")
	}
	if o.Output != "text" && o.Output != "json" {
		return usagef("--output %q: want text or json", o.Output)
	}
	switch runner.KeepPolicy(o.KeepNamespace) {
	case runner.KeepNever, runner.KeepOnFailure, runner.KeepAlways:
	case "":
		o.KeepNamespace = string(runner.KeepNever)
	default:
		return usagef("--keep-namespace %q: want never, on-failure or always", o.KeepNamespace)
	}
	if o.PauseOnFailure && !interactive(o.Stdin) {
		return usagef("--pause-on-failure waits for Enter on a terminal; it does not go with CI=true or without one (use --keep-namespace on-failure)")
	}
	if o.Quiet && o.Verbose {
		return usagef("--quiet and --verbose contradict each other")
	}
	if o.Baseline != "" && o.BaselineDir != "" {
		return usagef("give --baseline FILE or --baseline-dir DIR, not both")
	}
	// Checked whether or not a baseline is given: a mistake in a flag is
	// said before the run, not after a night of it.
	if _, err := parseTolerance(o.Tolerance, o.SecondsSlack); err != nil {
		return err
	}
	return checkConnections(o.Connections)
}
