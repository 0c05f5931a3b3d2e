package steps

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/kdrill/kdrill/scenario"
)

// maxKustomizeBytes bounds the scenario directory a kustomization is
// built from.
const maxKustomizeBytes = 16 << 20

// kustomizeBuild builds the kustomization in dir (relative to the
// scenario) with krusty, in process, over an in-memory copy of the
// scenario's directory, after the sandbox checked that everything it
// names is in that copy: its resources and bases cannot reach outside it,
// nothing is fetched or run, and its size is bounded.
func kustomizeBuild(s *scenario.Scenario, dir string) ([]scenario.Document, error) {
	path, err := s.ResolvePath(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("not a directory holding a kustomization")
	}
	mem, err := memoryCopy(s.Dir)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(s.Dir, path)
	if err != nil {
		return nil, err
	}
	root := filepath.Join("/", rel)
	if err := (&sandbox{fs: mem, disk: s.Dir}).check(root); err != nil {
		return nil, err
	}
	// Builtin generators and transformers only: no exec or container
	// functions, no plugins; files from the root's tree only.
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = types.DisabledPluginConfig()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	res, err := krusty.MakeKustomizer(opts).Run(mem, root)
	if err != nil {
		return nil, err
	}
	if res.Size() > maxKustomizeObjects {
		return nil, fmt.Errorf("the kustomization makes %d objects, more than %d", res.Size(), maxKustomizeObjects)
	}
	data, err := res.AsYaml()
	if err != nil {
		return nil, err
	}
	if len(data) > maxKustomizeOutputSize {
		return nil, fmt.Errorf("the kustomization makes %d MiB of YAML, more than %d", len(data)>>20, maxKustomizeOutputSize>>20)
	}
	return scenario.ParseDocuments(data)
}

// memoryCopy copies the YAML and kustomization files under root into an
// in-memory file system rooted at /.
func memoryCopy(root string) (filesys.FileSystem, error) {
	mem := filesys.MakeFsInMemory()
	total := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml", ".json", "":
		default:
			return nil
		}
		data, err := scenario.ReadFileLimited(path, scenario.MaxScenarioBytes)
		if err != nil {
			return nil //nolint:nilerr // a file kustomize may not need; if it does, it says so
		}
		if total += len(data); total > maxKustomizeBytes {
			return fmt.Errorf("the scenario's directory holds more than %d MiB of YAML", maxKustomizeBytes>>20)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		return mem.WriteFile(filepath.Join("/", rel), data)
	})
	return mem, err
}
