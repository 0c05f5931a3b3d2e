// Command kdrill runs declarative YAML scenarios against a Kubernetes cluster
// and reports what happened.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"
	"k8s.io/klog/v2"

	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/scenario"
)

// Exit codes, documented in the README.
const (
	exitPassed      = 0
	exitFailed      = 1
	exitInvalid     = 2
	exitInfra       = 3
	exitInterrupted = 130 // SIGINT; SIGTERM exits 143
)

// exitCode carries a command's exit status out of urfave/cli.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func main() {
	// client-go's own logging would interleave with kdrill's output.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)

	ctx, sig := signalContext()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr, sig))
}

// signalContext returns a context cancelled by the first SIGINT or SIGTERM;
// a second signal exits at once.
func signalContext() (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	var got os.Signal
	done := make(chan struct{})
	go func() {
		got = <-ch
		close(done)
		fmt.Fprintf(os.Stderr, "\n%s: stopping; running finally steps and cleanup (send it again to exit now)\n", got)
		cancel()
		second := <-ch
		if hardExit := onHardExit.Load(); hardExit != nil {
			(*hardExit)()
		}
		os.Exit(signalExit(second))
	}()
	return ctx, func() os.Signal {
		select {
		case <-done:
			return got
		default:
			return nil
		}
	}
}

// onHardExit, when set, runs before a second signal ends the process:
// it names what the run leaves behind and writes the results it has.
var onHardExit atomic.Pointer[func()]

func signalExit(s os.Signal) int {
	if s == syscall.SIGTERM {
		return 143
	}
	return exitInterrupted
}

// run runs the CLI and returns the process's exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, sig func() os.Signal) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	removeUnpacked()
	if s := sig(); s != nil {
		return signalExit(s)
	}
	var code exitCode
	switch {
	case err == nil:
		return exitPassed
	case errors.As(err, &code):
		return int(code)
	case scenario.IsInvalidInput(err), isUsageError(err):
		fmt.Fprintln(stderr, err)
		return exitInvalid
	case kube.IsInfra(err):
		fmt.Fprintln(stderr, "kdrill:", err)
		return exitInfra
	default:
		// urfave/cli reports flag and argument mistakes as plain errors.
		fmt.Fprintln(stderr, "kdrill:", err)
		return exitInvalid
	}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:                 "kdrill",
		Usage:                "run declarative YAML scenarios against a Kubernetes cluster and report what happened",
		Version:              versionString(),
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// --set values are YAML: [a, b] and {k: v, l: w} keep their commas.
		DisableSliceFlagSeparator: true,
		HideHelpCommand:           true,
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usagef("%v", err)
		},
		Commands: []*cli.Command{runCommand(), validateCommand(), schemaCommand(), stepsCommand(), docsCommand(), completionCommand(), reportCommand(), gradeCommand(), compareCommand(), restoreCommand(), leftoversCommand()},
	}
}

// preparer is a subcommand's options before they run.
type preparer interface {
	Validate() error
	Complete() error
}

// validateCompleteRun is every subcommand's order: its options checked
// without touching anything (Validate: a usage error, exit 2), made ready
// (Complete: files read, clusters connected), then run.
func validateCompleteRun(o preparer, run func() error) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if err := o.Complete(); err != nil {
		return err
	}
	return run()
}
