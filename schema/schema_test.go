package schema_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/schema"
	"github.com/kdrill/kdrill/steps"
)

func TestCommittedSchemaIsCurrent(t *testing.T) {
	out, err := schema.Generate(steps.Registry)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, schema.JSON) {
		t.Fatal("schema/kdrill.schema.json is stale: run go generate ./schema (make generate)")
	}
}

// compile reads the committed schema with an independent JSON Schema
// implementation, so the loader and the schema are checked against each
// other rather than against themselves.
func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schema.ID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schema.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func instance(t *testing.T, path string) (any, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(js))
}

// scenarioFiles lists the shipped scenarios (not their manifests).
func scenarioFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("../scenarios", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte("\nkind: Scenario")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found only %d shipped scenarios", len(files))
	}
	return files
}

func TestShippedScenariosMatchTheSchema(t *testing.T) {
	s := compile(t)
	for _, path := range scenarioFiles(t) {
		t.Run(path, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			first, _ := bufio.NewReader(f).ReadString('\n')
			f.Close()
			rel, _ := filepath.Rel(filepath.Dir(path), "../schema/kdrill.schema.json")
			if want := "# yaml-language-server: $schema=" + filepath.ToSlash(rel); strings.TrimSpace(first) != want {
				t.Errorf("first line is %q, want %q", strings.TrimSpace(first), want)
			}
			v, err := instance(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(v); err != nil {
				t.Errorf("schema: %v", err)
			}
			if _, err := scenario.Load(path, steps.Registry); err != nil {
				t.Errorf("loader: %v", err)
			}
		})
	}
}

// beyondTheSchema lists the bad scenarios only the loader can refuse, and
// why: the schema describes shapes, not meanings.
var beyondTheSchema = map[string]string{
	"generate-name-without-name.yaml":              "a manifest's fields are the API server's schema, not kdrill's",
	"included-line-in-its-file.yaml":               "an included file is read by the loader",
	"unclosed-template-in-block-inline.yaml":       "a manifest written as text is parsed by the loader",
	"workload-namespace-line.yaml":                 "the safety policy is the loader's",
	"inline-template-memory-bomb.yaml":             "a template's value is the expression engine's to compute",
	"cluster-template-reads-namespace.yaml":        "what a template reads is the loader's to check",
	"duration-vs-bare-number.yaml":                 "an expression's operand types are the loader's to check",
	"kill-recovery-without-recover.yaml":           "which outputs a step has depends on its other fields",
	"background-read-before-wait.yaml":             "when a step's output is whole depends on the steps around it",
	"promql-unclosed.yaml":                         "PromQL is parsed by Prometheus' parser",
	"promql-range-as-number.yaml":                  "a query's type is Prometheus' parser's to say",
	"metrics-without-prometheus.yaml":              "which source fields go together is the step's own check",
	"connect-bad-selector.yaml":                    "label selector syntax is checked by apimachinery's parser",
	"partition-selector-a-policy-cannot-hold.yaml": "which selectors a NetworkPolicy can hold is the step's own check",
	"lab-connect-debug-container.yaml":             "a lab's read-only rule depends on the step's fields",
	"connect-port-out-of-range.yaml":               "a port's range is the step's own check",
	"connect-two-destinations.yaml":                "which destination fields go together is the step's own check",
	"resolve-bad-name.yaml":                        "a DNS name's syntax is checked by apimachinery's validation",
	"bad-expression.yaml":                          "expressions are compiled by expr-lang",
	"assign-instead-of-compare.yaml":               "expressions are compiled by expr-lang",
	"contains-on-a-list.yaml":                      "expression types are checked by expr-lang",
	"assert-object-without-resource.yaml":          "which names an expression may use depends on other fields",
	"yaml11-boolean.yaml":                          "this test reads YAML 1.1, where yes is true; kdrill reads YAML 1.2, where it is text",
	"expression-not-bool.yaml":                     "expression types are checked by expr-lang",
	"unknown-name-in-expression.yaml":              "expression names are checked by expr-lang",
	"bad-template.yaml":                            "templates in manifests are compiled by expr-lang",
	"capacity-unknown-field.yaml":                  "the capacity expression's fields are checked by expr-lang",
	"bad-selector.yaml":                            "label selector syntax",
	"kill-recover-without-workload.yaml":           "one field that needs another is the loader's rule",
	"include-outside.yaml":                         "included files are read at load",
	"cluster-undeclared.yaml":                      "a step's cluster names one of spec.clusters",
	"http-portforward-without-target.yaml":         "one field that needs another is the loader's rule",
	"include-unknown-with.yaml":                    "an included file declares its vars",
	"node-count-without-selector.yaml":             "one field that needs another is the loader's rule",
	"node-taint-without-effect.yaml":               "a taint's effect is required to add it, not to remove it",
	"bad-namespace.yaml":                           "namespace names are DNS labels",
	"missing-manifest.yaml":                        "files are read at load",
	"path-escape.yaml":                             "paths are resolved at load",
	"duplicate-step-name.yaml":                     "step names must be unique across the list",
	"lab-check-without-points.yaml":                "points are required in a lab only",
	"lab-writes.yaml":                              "a lab's checks must be read-only kinds",
	"points-outside-lab.yaml":                      "points belong to labs",
	"negative-replicas.yaml":                       "checked by the step's Validate",
	"rejection-without-matcher.yaml":               "one of several matchers is required",
	"tolerance-empty.yaml":                         "one of several fields is required",
	"bad-regexp.yaml":                              "regular expressions are compiled at load",
	"invalid-quantity.yaml":                        "quantities in expressions are parsed at load",
	"manifest-is-a-directory.yaml":                 "files are read at load",
	"symlink-escape.yaml":                          "links are resolved at load",
	"patch-wrong-shape.yaml":                       "the patch's shape depends on its type",
	"multiple-documents.yaml":                      "a file holds one scenario",
	"duplicate-key.yaml":                           "JSON Schema sees the decoded value, where the last key wins",
	"http-url-and-service.yaml":                    "url and service are exclusive",
	"http-until-with-count.yaml":                   "until excludes count",
	"kill-workload-in-system-namespace.yaml":       "the safety policy weighs namespaces from several fields",
	"delete-system-namespace.yaml":                 "the safety policy knows Namespace's aliases",
	"delete-in-scenario-system-namespace.yaml":     "the safety policy weighs the scenario's namespace",
	"undeclared-var.yaml":                          "vars are checked against spec.vars by the loader",
	"step-output-missing-step.yaml":                "steps.NAME is checked against earlier steps",
	"step-output-later-step.yaml":                  "steps.NAME is checked against earlier steps",
	"step-output-unknown-field.yaml":               "output fields are checked against the kind's output type",
	"duration-literal.yaml":                        "helper literals are parsed at load",
	"rejection-unknown-field.yaml":                 "the rejection's fields are checked against its type",
	"template-unknown-var.yaml":                    "templates are compiled at load",
	"inline-block-error.yaml":                      "a manifest written as text is parsed at load",
	"podexec-pod-and-selector.yaml":                "pod and selector are exclusive",
	"logs-pod-and-selector.yaml":                   "pod and selector are exclusive",
	"kustomize-broken.yaml":                        "kustomizations are built at load",
	"kustomize-outside.yaml":                       "paths are resolved at load",
	"exec-as-lab-check.yaml":                       "a lab's rule across two fields",
	"exec-command-and-script.yaml":                 "command and script are exclusive",
	"exec-working-dir-escapes.yaml":                "paths are resolved at load",
	"capacity-bad-selector.yaml":                   "label selector syntax",
	"explicit-zero-mean.yaml":                      "an explicit value a default would replace is judged against the step's Default",
	"http-method-with-path.yaml":                   "method tokens are checked by the step",
	"json-patch-bad-op.yaml":                       "the patch's shape depends on its type",
	"monitor-not-background.yaml":                  "continuous kinds need background, a rule across two fields",
	"load-forever-in-foreground.yaml":              "a load without a duration needs background, a rule across two fields",
	"namespace-not-a-name.yaml":                    "namespace names are DNS labels",
	"rollback-not-a-switch.yaml":                   "step references are resolved across the list",
	"rollback-unknown.yaml":                        "step references are resolved across the list",
	"description-carriage-return.yaml":             "control characters in text are the loader's check",
	"step-name-escape.yaml":                        "control characters in text are the loader's check",
	"step-name-newline.yaml":                       "control characters in text are the loader's check",
	"step-name-spaces.yaml":                        "text of spaces alone is the loader's check",
	"http-port-out-of-range.yaml":                  "domains are the loader's check (apimachinery's validation)",
	"container-name-invalid.yaml":                  "domains are the loader's check (apimachinery's validation)",
	"node-listed-twice.yaml":                       "domains are the loader's check (apimachinery's validation)",
	"header-value-crlf.yaml":                       "domains are the loader's check (apimachinery's validation)",
	"matrix-value-twice.yaml":                      "a value listed twice is a rule across items",
	"vars-differ-in-case.yaml":                     "names that differ in case only are a rule across keys",
	"exec-script-template.yaml":                    "templates are found by the loader",
	"exec-env-kubeconfig.yaml":                     "names kdrill sets are the step's check",
	"stop-included-without-prefix.yaml":            "step references are resolved across the list",
}

func TestBadScenariosTheSchemaRefuses(t *testing.T) {
	s := compile(t)
	files, err := filepath.Glob("../scenario/testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad scenarios: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			v, err := instance(t, path)
			if err != nil {
				t.Skipf("not YAML the schema can see: %v", err)
			}
			err = s.Validate(v)
			if reason, ok := beyondTheSchema[name]; ok {
				if err != nil {
					t.Logf("the schema refuses it too (%s): %v", reason, err)
				}
				return
			}
			if err == nil {
				b, _ := json.Marshal(v)
				t.Errorf("the loader refuses %s, the schema accepts it: %s", name, b)
			}
		})
	}
}

func TestCheckNamesFileLineAndField(t *testing.T) {
	for file, want := range map[string]string{
		"unknown-spec-field.yaml": `unknown-spec-field.yaml:6: spec.namespcae: schema: unknown field "namespcae"`,
		"wrong-type.yaml":         "wrong-type.yaml:11: spec.steps.0.scale.replicas: schema: got string, want integer",
		"two-actions.yaml":        "two-actions.yaml:7: spec.steps.0: schema: a step does one thing",
		"bad-duration.yaml":       "bad-duration.yaml:8: spec.steps.0.timeout: schema: '5 seconds' does not match pattern",
	} {
		data, err := os.ReadFile(filepath.Join("../scenario/testdata/bad", file))
		if err != nil {
			t.Fatal(err)
		}
		err = schema.Check(file, data)
		if err == nil || !strings.Contains(err.Error(), want) || !scenario.IsInvalidInput(err) {
			t.Errorf("%s: got %v, want %q (invalid input)", file, err, want)
		}
	}
	for _, path := range scenarioFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Check(path, data); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}
