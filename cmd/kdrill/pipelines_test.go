package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kdrill/kdrill/internal/injob"
	"github.com/kdrill/kdrill/kube"
	"github.com/kdrill/kdrill/runner/testcluster"
)

// The projects' own CRDs, from their Go modules (the module zips hold the
// repositories' manifests; nothing of them is built or run).
var pipelineCRDs = []struct {
	module, version string
	files           []string
}{
	{"github.com/argoproj/argo-workflows/v4", "v4.0.5", []string{"manifests/base/crds/full/argoproj.io_workflowtemplates.yaml"}},
	{"github.com/tektoncd/pipeline", "v1.6.0", []string{"config/300-crds/300-task.yaml", "config/300-crds/300-pipeline.yaml"}},
}

// moduleDir downloads a module through the Go module proxy (or finds it in
// the module cache) and returns its directory.
func moduleDir(t *testing.T, module, version string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", "mod", "download", "-json", module+"@"+version).Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); err != nil || jerr != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s", module, version, err, info.Error)
	}
	return info.Dir
}

// createStrict sends the object as a server-side dry run with strict field
// validation: the API server checks it against its CRD's schema and
// refuses a field the schema does not have.
func createStrict(c *kube.Cluster, obj *unstructured.Unstructured) error {
	m, err := c.Mapping(obj.GetAPIVersion(), obj.GetKind())
	if err != nil {
		return err
	}
	_, err = c.Resource(m, obj.GetNamespace()).Create(context.Background(), obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
	return err
}

// The Argo Workflows WorkflowTemplate and the Tekton Task and Pipeline in
// deploy/ are valid against those projects' own CRD schemas, as the local
// cluster's API server enforces them with strict field validation; a
// misspelled field in each is refused, so the check can fail.
func TestPipelineTemplatesMatchTheirProjectsSchemas(t *testing.T) {
	admin := testcluster.Connect(t)
	ctx := context.Background()
	for _, crd := range pipelineCRDs {
		dir := moduleDir(t, crd.module, crd.version)
		for _, f := range crd.files {
			objs, err := injob.Objects(filepath.Join(dir, f), "", false)
			if err != nil {
				t.Fatal(err)
			}
			if err := injob.Apply(ctx, admin, objs); err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				name := o.GetName()
				if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
					admin.Mapper.Reset()
					_, err := admin.Mapping(o.Object["spec"].(map[string]any)["group"].(string)+"/"+firstServed(o), o.Object["spec"].(map[string]any)["names"].(map[string]any)["kind"].(string))
					return err == nil, nil
				}); err != nil {
					t.Fatalf("CRD %s not served: %v", name, err)
				}
			}
		}
	}
	ns := testcluster.Namespace(t, admin)
	misspelled := map[string][2]string{
		"WorkflowTemplate": {"entrypoint", "entryPoint"},
		"Task":             {"steps", "stepz"},
		"Pipeline":         {"tasks", "taskz"},
	}
	seen := map[string]bool{}
	for _, file := range []string{"../../deploy/argo/workflow-template.yaml", "../../deploy/tekton/task.yaml"} {
		objs, err := injob.Objects(file, ns, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range objs {
			seen[obj.GetKind()] = true
			if err := createStrict(admin, obj); err != nil {
				t.Errorf("%s: %s %s: %v", file, obj.GetKind(), obj.GetName(), err)
			}
			bad := obj.DeepCopy()
			spec := bad.Object["spec"].(map[string]any)
			fields := misspelled[obj.GetKind()]
			spec[fields[1]] = spec[fields[0]]
			delete(spec, fields[0])
			if err := createStrict(admin, bad); err == nil || !strings.Contains(err.Error(), fields[1]) {
				t.Errorf("%s %s with spec.%s: %v; want it refused", obj.GetKind(), obj.GetName(), fields[1], err)
			}
		}
	}
	for kind := range misspelled {
		if !seen[kind] {
			t.Errorf("no %s in deploy/", kind)
		}
	}
}

// firstServed is a CRD's first served version.
func firstServed(crd *unstructured.Unstructured) string {
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		if m := v.(map[string]any); m["served"] == true {
			return m["name"].(string)
		}
	}
	return ""
}
