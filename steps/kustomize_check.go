package steps

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Bounds on what a kustomization may make kdrill build at load.
const (
	maxKustomizations      = 200   // kustomization files visited, bases counted each time they are reached
	maxKustomizeGenerated  = 5000  // generator entries (literals, files, envs) over all visits
	maxKustomizeObjects    = 10000 // objects the build may produce
	maxKustomizeOutputSize = 16 << 20
)

// kustomizationNames are the file names kustomize reads in a directory.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// kustomization is what the sandbox reads of a kustomization: every field
// that names a file, a directory or something to run.
type kustomization struct {
	Resources             []string          `json:"resources"`
	Bases                 []string          `json:"bases"`
	Components            []string          `json:"components"`
	Crds                  []string          `json:"crds"`
	Configurations        []string          `json:"configurations"`
	Generators            []string          `json:"generators"`
	Transformers          []string          `json:"transformers"`
	Validators            []string          `json:"validators"`
	PatchesStrategicMerge []string          `json:"patchesStrategicMerge"`
	Patches               []pathField       `json:"patches"`
	PatchesJSON6902       []pathField       `json:"patchesJson6902"`
	Replacements          []pathField       `json:"replacements"`
	OpenAPI               map[string]string `json:"openapi"`
	ConfigMapGenerator    []generatorArgs   `json:"configMapGenerator"`
	SecretGenerator       []generatorArgs   `json:"secretGenerator"`
	HelmCharts            []any             `json:"helmCharts"`
	HelmGlobals           any               `json:"helmGlobals"`
	HelmInflation         []any             `json:"helmChartInflationGenerator"`
}

type pathField struct {
	Path string `json:"path"`
}

type generatorArgs struct {
	Literals []string `json:"literals"`
	Files    []string `json:"files"`
	Envs     []string `json:"envs"`
	Env      string   `json:"env"`
}

// sandbox checks a kustomization and everything it reaches before krusty
// builds it: every file or directory it names must be in the in-memory
// copy of the scenario's directory (a remote base, a URL, a git
// repository is refused, so nothing is fetched); helm charts (run by the
// helm program) are refused; and the number of kustomizations visited and
// of generated entries is bounded, so a nested-base bomb or a huge
// generator is refused before it is built.
type sandbox struct {
	fs        filesys.FileSystem
	disk      string // the scenario's directory the copy was made from
	visits    int
	generated int
}

func (b *sandbox) check(dir string) error {
	b.visits++
	if b.visits > maxKustomizations {
		return fmt.Errorf("more than %d kustomizations are reached (bases included each time): refused as too costly to build", maxKustomizations)
	}
	file, k, err := b.read(dir)
	if err != nil {
		return err
	}
	if len(k.HelmCharts) > 0 || k.HelmGlobals != nil || len(k.HelmInflation) > 0 {
		return fmt.Errorf("%s: helmCharts: charts are inflated by running the helm program, which kdrill does not do at load; render the chart into the directory", file)
	}
	for field, list := range map[string][]string{"resources": k.Resources, "bases": k.Bases, "components": k.Components} {
		for i, entry := range list {
			p, err := b.local(file, fmt.Sprintf("%s[%d]", field, i), dir, entry)
			if err != nil {
				return err
			}
			if b.fs.IsDir(p) {
				if err := b.check(p); err != nil {
					return err
				}
			}
		}
	}
	paths := map[string][]string{
		"crds": k.Crds, "configurations": k.Configurations, "generators": k.Generators,
		"transformers": k.Transformers, "validators": k.Validators,
	}
	for i, p := range k.PatchesStrategicMerge {
		if !strings.Contains(p, "\n") { // a path, not an inline patch
			paths[fmt.Sprintf("patchesStrategicMerge[%d]", i)] = []string{p}
		}
	}
	for field, list := range map[string][]pathField{"patches": k.Patches, "patchesJson6902": k.PatchesJSON6902, "replacements": k.Replacements} {
		for i, f := range list {
			if f.Path != "" {
				paths[fmt.Sprintf("%s[%d].path", field, i)] = []string{f.Path}
			}
		}
	}
	if p := k.OpenAPI["path"]; p != "" {
		paths["openapi.path"] = []string{p}
	}
	for gi, g := range append(k.ConfigMapGenerator, k.SecretGenerator...) {
		b.generated += len(g.Literals) + len(g.Files) + len(g.Envs)
		var files []string
		for _, f := range append(append([]string{}, g.Files...), g.Envs...) {
			_, f, _ = cutKey(f)
			files = append(files, f)
		}
		if g.Env != "" {
			files = append(files, g.Env)
		}
		paths[fmt.Sprintf("generator %d", gi)] = files
	}
	if b.generated > maxKustomizeGenerated {
		return fmt.Errorf("generators make more than %d entries: refused as too costly to build", maxKustomizeGenerated)
	}
	for field, list := range paths {
		for _, entry := range list {
			if _, err := b.local(file, field, dir, entry); err != nil {
				return err
			}
		}
	}
	return nil
}

// read finds and decodes the kustomization in dir.
func (b *sandbox) read(dir string) (string, *kustomization, error) {
	for _, name := range kustomizationNames {
		file := path.Join(dir, name)
		if !b.fs.Exists(file) {
			continue
		}
		data, err := b.fs.ReadFile(file)
		if err != nil {
			return file, nil, err
		}
		var k kustomization
		if err := yaml.Unmarshal(data, &k); err != nil {
			return file, nil, fmt.Errorf("%s: %w", strings.TrimPrefix(file, "/"), err)
		}
		return strings.TrimPrefix(file, "/"), &k, nil
	}
	return dir, nil, fmt.Errorf("%s holds no kustomization.yaml", strings.TrimPrefix(dir, "/"))
}

// local resolves an entry against the kustomization's directory and
// requires it to be in the in-memory copy.
func (b *sandbox) local(file, field, dir, entry string) (string, error) {
	if isRemote(entry) {
		return "", fmt.Errorf("%s: %s %q is remote: kdrill builds kustomizations from the scenario's directory only and fetches nothing; vendor it into the directory", file, field, entry)
	}
	p := path.Clean(path.Join(dir, entry))
	if fi, err := os.Lstat(filepath.Join(b.disk, filepath.FromSlash(p))); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return "", fmt.Errorf("%s: %s %q is a symbolic link: kdrill does not follow links in a kustomization (one may leave the scenario's directory); copy what it points to", file, field, entry)
	}
	if !b.fs.Exists(p) {
		return "", fmt.Errorf("%s: %s %q is not a file or directory in the scenario's directory (a link out of it, or a remote base, is not followed)", file, field, entry)
	}
	return p, nil
}

// isRemote says whether a kustomization entry names something kustomize
// would fetch: a URL, a git address, or a host path such as
// github.com/org/repo.
func isRemote(entry string) bool {
	if strings.Contains(entry, "://") || strings.HasPrefix(entry, "git@") || strings.HasPrefix(entry, "git::") || strings.Contains(entry, "?ref=") {
		return true
	}
	host, _, _ := strings.Cut(entry, "/")
	return strings.Contains(host, ".") && host != "." && host != ".." && strings.Count(entry, "/") >= 2 && !strings.HasPrefix(entry, ".")
}

// cutKey splits a generator's "key=path" entry.
func cutKey(entry string) (string, string, bool) {
	if k, v, ok := strings.Cut(entry, "="); ok {
		return k, v, true
	}
	return "", entry, false
}
