package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/kdrill/kdrill/model"
)

// interactive reports whether a person can answer on in: a terminal, and
// not a CI job.
func interactive(in io.Reader) bool {
	if os.Getenv("CI") != "" {
		return false
	}
	f, ok := in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) //nolint:gosec // G115: a file descriptor fits an int
}

// pauser returns the run's pause on failure, or nil when not asked for: it
// says where to look and waits for Enter, or for the run to be interrupted.
func (o *RunOptions) pauser() func(context.Context, *model.ScenarioResult) {
	if !o.PauseOnFailure {
		return nil
	}
	// One reader for the whole run: each line is one Enter.
	enter := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(o.Stdin)
		for lines.Scan() {
			enter <- struct{}{}
		}
	}()
	return func(ctx context.Context, sr *model.ScenarioResult) {
		ns := sr.Namespace
		fmt.Fprintf(o.Stdout, "\npaused: %s failed; namespace %s is as the failure left it, before finally steps and cleanup.\n", sr.Name, ns)
		fmt.Fprintf(o.Stdout, "  kubectl get all,events -n %s\n  kubectl describe pods -n %s\n", ns, ns)
		fmt.Fprintln(o.Stdout, "press Enter to go on (Ctrl-C ends the run, still cleaning up)")
		select {
		case <-enter:
		case <-ctx.Done():
		}
	}
}
