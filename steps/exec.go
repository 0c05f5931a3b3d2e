package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"

	"github.com/kdrill/kdrill/expression"
	"github.com/kdrill/kdrill/internal/message"
	"github.com/kdrill/kdrill/model"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/step"
)

// maxOutputBytes is how much of stdout and of stderr an exec keeps.
const maxOutputBytes = 64 << 10

// Exec runs a command on this machine: kubectl, helm, a company's own CLI,
// a script. It sees KUBECONFIG (a file with the run's cluster and
// credentials whose context's namespace is the scenario's), KDRILL_NAMESPACE,
// KDRILL_SCENARIO, and each var as KDRILL_VAR_NAME (upper-cased). By
// default it must exit 0; expect can say more over exitCode, stdout,
// stderr and json (stdout parsed when it is JSON). The step's timeout ends
// the command and every process it started. It counts as disrupting (the
// context guard applies) unless readOnly says it only reads; a lab runs it
// only as setup.
//
// Example:
//
//	steps:
//	- name: kubectl sees our namespace
//	  exec:
//	    command: [sh, -c, 'kubectl get ns "$KDRILL_NAMESPACE" -o json']
//	    readOnly: true
//	    expect: json.metadata.name == namespace && exitCode == 0
type Exec struct {
	// Command is the program and its arguments, run without a shell.
	Command []string `json:"command,omitempty"`
	// Script is shell text, run by /bin/sh -c.
	Script string `json:"script,omitempty" kdrill:"shell"`
	// Env adds variables to the command's environment.
	Env map[string]string `json:"env,omitempty"`
	// WorkingDir is relative to the scenario's directory and may not leave
	// it; default the scenario's directory.
	WorkingDir string `json:"workingDir,omitempty"`
	// Stdin is written to the command's standard input.
	Stdin string `json:"stdin,omitempty"`
	// Expect must hold once the command exits (default exitCode == 0).
	Expect expression.Expr `json:"expect,omitempty"`
	// ReadOnly says the command only reads: the context guard then lets it
	// run anywhere, as it does reading steps (default false: it is taken
	// to disrupt).
	ReadOnly bool `json:"readOnly,omitempty"`

	dir string
}

// Default expects exit code 0.
func (e *Exec) Default() {
	if e.Expect.IsZero() {
		e.Expect = expression.Expr{Source: "exitCode == 0"}
	}
}

// Validate checks that exactly one of command and script is given.
func (e *Exec) Validate() error {
	var errs scenario.FieldErrors
	switch {
	case len(e.Command) == 0 && e.Script == "":
		errs.Add("", "give command (a list: [kubectl, get, pods]) or script (shell text)")
	case len(e.Command) > 0 && e.Script != "":
		errs.Add("script", "give command or script, not both")
	case len(e.Command) > 0 && e.Command[0] == "":
		errs.Add("command", "the first element names the program")
	}
	for _, name := range slices.Sorted(maps.Keys(e.Env)) {
		field := "env" // at the key's own line, when a path can name it
		if name != "" && !strings.Contains(name, ".") {
			field += "." + name
		}
		switch {
		case name == "" || strings.ContainsAny(name, "= \t\n"):
			errs.Add(field, "%q is not an environment variable name", name)
		case name == "KUBECONFIG" || name == "KDRILL_NAMESPACE" || name == "KDRILL_SCENARIO" || strings.HasPrefix(name, "KDRILL_VAR_"):
			errs.Add(field, "%s is kdrill's to set (the run's cluster and namespace, the scenario's vars); a step cannot replace it", name)
		}
	}
	return errs.Err()
}

// Prepare resolves the working directory inside the scenario's.
func (e *Exec) Prepare(s *scenario.Loading) error {
	e.dir = s.Dir
	if e.WorkingDir == "" {
		return nil
	}
	dir, err := s.ResolvePath(e.WorkingDir)
	if err != nil {
		return &scenario.FieldError{Field: "workingDir", Msg: err.Error()}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return &scenario.FieldError{Field: "workingDir", Msg: fmt.Sprintf("%s is not a directory", e.WorkingDir)}
	}
	e.dir = dir
	return nil
}

// Effect is reads for a command marked readOnly; otherwise the kind's
// declared disrupts.
func (e *Exec) Effect() scenario.Effect {
	if e.ReadOnly {
		return scenario.Reads
	}
	return scenario.Disrupts
}

// ExprNames adds what the command did.
func (e *Exec) ExprNames() map[string]any {
	return map[string]any{"exitCode": 0, "stdout": "", "stderr": "", "json": map[string]any{}}
}

// Run runs the command and judges what it did.
func (e *Exec) Run(ctx context.Context, env *step.Env) (any, error) {
	tmp, err := os.MkdirTemp("", "kdrill-exec-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	kubeconfig, err := env.Cluster.WriteKubeconfig(tmp, env.Namespace)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig for the command: %w", err)
	}
	cmd := e.command(ctx)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), e.environment(env, kubeconfig)...)
	cmd.Stdin = strings.NewReader(e.Stdin)
	stdout, stderr := &capped{}, &capped{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// The command and whatever it starts are one process group, killed
	// together when the step's time is up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	runErr := cmd.Run()
	out := &model.ExecOutput{ExitCode: cmd.ProcessState.ExitCode(), Stdout: stdout.String(), Stderr: stderr.String(), Truncated: stdout.cut || stderr.cut}
	out.JSON = parseJSON(stdout.Bytes())
	var exitErr *exec.ExitError
	switch {
	case errors.Is(runErr, exec.ErrNotFound) || errors.Is(runErr, os.ErrNotExist):
		return nil, fmt.Errorf("%s: not found on PATH (%s)", e.describe(), os.Getenv("PATH"))
	case ctx.Err() != nil:
		return out, fmt.Errorf("%s did not finish in time; it was killed%s", e.describe(), tail(out.Stderr))
	case runErr != nil && !errors.As(runErr, &exitErr):
		return nil, fmt.Errorf("%s: %w", e.describe(), runErr)
	}
	values := map[string]any{"exitCode": out.ExitCode, "stdout": out.Stdout, "stderr": out.Stderr, "json": out.JSON}
	ok, seen, err := e.Expect.Eval(env.ExprEnv(values))
	env.Observe(e.Expect.Source, seen)
	if err != nil || !ok {
		msg := fmt.Sprintf("%s exited %d; expected %s", e.describe(), out.ExitCode, e.Expect.Source)
		if err != nil {
			msg += fmt.Sprintf(" (evaluation error: %v)", err)
		}
		return out, &AssertionError{Msg: msg + tail(out.Stderr)}
	}
	return out, nil
}

// Plan says what would run; a dry run never runs it.
func (e *Exec) Plan(context.Context, *step.Env) (string, error) {
	return "would run " + e.describe() + " (not run in a dry run)", nil
}

func (e *Exec) command(ctx context.Context) *exec.Cmd {
	if e.Script != "" {
		return exec.CommandContext(ctx, "/bin/sh", "-c", e.Script) //nolint:gosec // G204: running the scenario's script is the point
	}
	return exec.CommandContext(ctx, e.Command[0], e.Command[1:]...) //nolint:gosec // G204: running the scenario's command is the point
}

// environment is what kdrill adds to the command's environment.
func (e *Exec) environment(env *step.Env, kubeconfig string) []string {
	out := []string{"KUBECONFIG=" + kubeconfig, "KDRILL_NAMESPACE=" + env.Namespace}
	if env.Scenario != nil {
		out = append(out, "KDRILL_SCENARIO="+env.Scenario.Metadata.Name)
	}
	names := slices.Sorted(maps.Keys(env.Vars))
	for _, name := range names {
		v := env.Vars[name]
		text, ok := v.(string)
		if !ok {
			data, _ := json.Marshal(v)
			text = string(data)
		}
		out = append(out, "KDRILL_VAR_"+strings.ToUpper(name)+"="+text)
	}
	for k, v := range e.Env {
		out = append(out, k+"="+v)
	}
	return out
}

// describe names the command in messages.
func (e *Exec) describe() string {
	if e.Script != "" {
		return fmt.Sprintf("script %q", message.Clip(e.Script, 60))
	}
	return fmt.Sprintf("command %q", strings.Join(e.Command, " "))
}

// tail is the end of stderr, for a message.
func tail(stderr string) string {
	stderr = strings.TrimSpace(stderr)
	if stderr == "" {
		return ""
	}
	lines := strings.Split(stderr, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return "; stderr: " + strings.Join(lines, " | ")
}

// capped keeps the first maxOutputBytes written to it.
type capped struct {
	bytes.Buffer
	cut bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutputBytes - c.Len(); room < len(p) {
		c.cut = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

// parseJSON is stdout parsed, when it is JSON.
func parseJSON(data []byte) any {
	var parsed any
	if json.Unmarshal(data, &parsed) != nil {
		return nil
	}
	return parsed
}
