package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kdrill/kdrill/schema"
)

// TestReferenceDocsAreCurrent regenerates docs/steps.md and docs/cli.md and
// compares them with the committed pages (make docs rewrites them).
func TestReferenceDocsAreCurrent(t *testing.T) {
	out := t.TempDir()
	t.Chdir("../..")
	o := &DocsOptions{Out: out, Scenarios: "scenarios", App: newApp(io.Discard, io.Discard)}
	if err := o.Run(); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"steps.md", "cli.md"} {
		fresh, err := os.ReadFile(filepath.Join(out, page))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("docs", page))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("docs/%s is stale: run make docs", page)
		}
	}
}

func TestSchemaCommandPrintsTheEmbeddedSchema(t *testing.T) {
	code, stdout, stderr := kdrill(t, "schema")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != string(schema.JSON) {
		t.Error("kdrill schema does not print the embedded schema")
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "complete -o bashdefault -o default -F _kdrill_complete kdrill",
		"zsh":  "#compdef kdrill",
		"fish": "complete -r -c kdrill -n '__fish_kdrill_no_subcommand' -a 'run'",
	} {
		code, stdout, stderr := kdrill(t, "completion", shell)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("completion %s: exit %d, stderr %q; output lacks %q:\n%s", shell, code, stderr, want, stdout)
		}
	}
	if code, _, stderr := kdrill(t, "completion", "tcsh"); code != exitInvalid || !strings.Contains(stderr, "bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d, %q", code, stderr)
	}
	// The bash and zsh scripts ask the binary for candidates; it must
	// answer (urfave/cli reads os.Args for this, so run the real binary).
	bin := buildKdrill(t)
	for args, want := range map[string]string{"": "validate\n", "run --ti": "--timeout"} {
		out, err := exec.Command(bin, append(strings.Fields(args), "--generate-bash-completion")...).Output()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("kdrill %s --generate-bash-completion: %v, output lacks %q:\n%s", args, err, want, out)
		}
	}
}
