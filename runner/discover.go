package runner

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Discover expands the paths a user named into scenario files. A file is
// taken as it is; a directory is walked for .yaml and .yml files whose
// envelope says kind: Scenario, skipping manifests and other YAML. A path
// that does not exist is an error.
func Discover(paths []string) ([]string, error) {
	var out []string
	var errs LoadErrors
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &LoadError{File: p, Msg: "no such file or directory"})
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
					return filepath.SkipDir
				}
				return nil
			}
			ext := filepath.Ext(path)
			if (ext == ".yaml" || ext == ".yml") && looksLikeScenario(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, &LoadError{File: p, Msg: err.Error()})
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// looksLikeScenario peeks at a file's first lines for the scenario envelope.
func looksLikeScenario(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := f.Read(head)
	head = head[:n]
	return bytes.Contains(head, []byte("kind: "+Kind)) && bytes.Contains(head, []byte("kdrill.dev/"))
}
