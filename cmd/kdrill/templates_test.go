package main

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"

	"github.com/kdrill/kdrill/scenario"
)

// kdrillCommands are the kdrill command lines of a deploy/ file: the run:
// lines of a workflow that call ./kdrill, and the args of containers that
// run kdrill's image.
func kdrillCommands(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := scenario.ParseDocuments(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out [][]string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if run, ok := x["run"].(string); ok && strings.HasPrefix(run, "./kdrill ") {
				out = append(out, strings.Fields(strings.TrimPrefix(run, "./kdrill ")))
			}
			if img, ok := x["image"].(string); ok && strings.Contains(img, "kdrill") {
				var args []string
				for _, a := range x["args"].([]any) {
					args = append(args, a.(string))
				}
				out = append(out, args)
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, d := range docs {
		walk(d.Value)
	}
	return out
}

// Every kdrill command line the shipped templates hold names a command
// kdrill has and only flags that command takes: a renamed flag would
// break a user's nightly job where no test of ours would see it.
func TestTemplatesUseKdrillsOwnFlags(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	seen := 0
	for _, path := range []string{"../../deploy/ci/github-actions.yaml", "../../deploy/indexed-job.yaml", "../../deploy/indexed-job-merge.yaml", "../../deploy/cronjob.yaml"} {
		data, _ := os.ReadFile(path)
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		for _, args := range kdrillCommands(t, path) {
			seen++
			cmds, rest := app.Commands, args
			var cmd *cli.Command
			for len(rest) > 0 {
				var next *cli.Command
				for _, c := range cmds {
					if c.Name == rest[0] {
						next = c
					}
				}
				if next == nil {
					break
				}
				cmd, cmds, rest = next, next.Subcommands, rest[1:]
			}
			if cmd == nil {
				t.Errorf("%s: %q is not a kdrill command", path, strings.Join(args, " "))
				continue
			}
			known := map[string]bool{}
			for _, f := range cmd.Flags {
				for _, n := range f.Names() {
					known[n] = true
				}
			}
			for _, a := range rest {
				name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
				if strings.HasPrefix(a, "--") && !known[name] {
					t.Errorf("%s: kdrill %s has no flag --%s", path, cmd.Name, name)
				}
			}
		}
	}
	if seen < 5 {
		t.Errorf("found %d kdrill command lines in the templates; the test reads them wrong", seen)
	}
}
