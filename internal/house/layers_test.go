package house

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The step kinds speak to the engine through the step package's contract
// alone: neither they nor anything they import reaches the runner.
func TestStepKindsDoNotDependOnTheRunner(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/kdrill/kdrill/steps").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/kdrill/kdrill/runner" || strings.HasPrefix(pkg, "github.com/kdrill/kdrill/runner/") {
			t.Errorf("the steps package depends on %s", pkg)
		}
	}
}

// A loaded scenario is a description: it holds no live cluster.
func TestTheLoadedScenarioHoldsNoCluster(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "scenario", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "kube" && sel.Sel.Name == "Cluster" {
					t.Errorf("%s names kube.Cluster", filepath.Base(file))
				}
			}
			return true
		})
	}
}
