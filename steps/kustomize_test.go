package steps_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kdrill/kdrill/internal/testfiles"
	"github.com/kdrill/kdrill/scenario"
	"github.com/kdrill/kdrill/steps"
)

// A kustomization is built at load in a sandbox: anything remote (a git
// base, a URL, a local HTTP server) is refused with the field's line and
// without a request; helm charts and exec functions are refused; links are
// named as such; a nested-base bomb and a huge generator are refused
// quickly.
func TestKustomizeIsASandbox(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n")
	}))
	t.Cleanup(srv.Close)

	bomb := map[string]string{}
	for i := range 12 { // each level reaches the next twice: 2^12 visits
		bomb[fmt.Sprintf("k/l%d/kustomization.yaml", i)] = fmt.Sprintf("resources: [../l%d, ../m%d]\n", i+1, i+1)
		bomb[fmt.Sprintf("k/m%d/kustomization.yaml", i)] = fmt.Sprintf("resources: [../l%d]\n", i+1)
	}
	for _, last := range []string{"l12", "m12"} {
		bomb["k/"+last+"/kustomization.yaml"] = "resources: [cm.yaml]\n"
		bomb["k/"+last+"/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	}
	bomb["k/kustomization.yaml"] = "resources: [l0]\n"
	var literals strings.Builder
	for i := range 30000 {
		fmt.Fprintf(&literals, "  - k%d=v\n", i)
	}

	for name, tc := range map[string]struct {
		files map[string]string
		link  bool
		want  string
	}{
		"git base":       {files: map[string]string{"k/kustomization.yaml": "resources: ['github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6']\n"}, want: "is remote"},
		"https resource": {files: map[string]string{"k/kustomization.yaml": "resources: [https://example.com/cm.yaml]\n"}, want: "is remote"},
		"local server":   {files: map[string]string{"k/kustomization.yaml": "resources: [" + srv.URL + "/cm.yaml]\n"}, want: "is remote"},
		"patch by url":   {files: map[string]string{"k/kustomization.yaml": "resources: [cm.yaml]\npatches: [{path: " + srv.URL + "/p.yaml}]\n", "k/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"}, want: "is remote"},
		"helm chart":     {files: map[string]string{"k/kustomization.yaml": "helmCharts: [{name: x, repo: " + srv.URL + "}]\n"}, want: "helmCharts"},
		"exec function": {files: map[string]string{
			"k/kustomization.yaml": "resources: [cm.yaml]\ntransformers: [fn.yaml]\n",
			"k/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
			"k/fn.yaml":            "apiVersion: example.com/v1\nkind: Fn\nmetadata: {name: f, annotations: {config.kubernetes.io/function: \"exec: {path: /bin/sh}\"}}\n",
		}, want: "external plugins disabled"},
		"link out": {files: map[string]string{"k/kustomization.yaml": "resources: [outside.yaml]\n"}, link: true, want: "is a symbolic link"},
		"bomb":     {files: bomb, want: "more than 200 kustomizations"},
		"generator": {
			files: map[string]string{"k/kustomization.yaml": "configMapGenerator:\n- name: big\n  literals:\n" + literals.String()},
			want:  "generators make more than 5000 entries",
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			testfiles.Write(t, dir, tc.files)
			if tc.link {
				outside := filepath.Join(t.TempDir(), "secret.yaml")
				if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(outside, filepath.Join(dir, "k", "outside.yaml")); err != nil {
					t.Fatal(err)
				}
			}
			file := filepath.Join(dir, "s.yaml")
			testfiles.Write(t, dir, map[string]string{"s.yaml": "apiVersion: kdrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: k}\nspec:\n  steps:\n  - name: build\n    apply:\n      kustomize: k\n"})
			start := time.Now()
			_, err := scenario.Load(file, steps.Registry)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "s.yaml:8:") {
				t.Errorf("load: %v; want %q at s.yaml:8", err, tc.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refused after %s", d)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("loading sent %d requests to the local server", n)
	}
}
