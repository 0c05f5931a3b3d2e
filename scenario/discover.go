package scenario

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SkippedFile is a file or directory Discover passed over, and why.
type SkippedFile struct {
	Path   string
	Reason string
}

// Discovery is what Discover found under the paths a user named.
type Discovery struct {
	// Files are the scenario files, in the order named, sorted within a
	// directory.
	Files []string
	// Skipped are the files and directories left out, with the reason.
	Skipped []SkippedFile
}

// Discover expands the paths a user named into scenario files. A file is
// taken as it is. A directory is walked for .yaml, .yml and .json files,
// and each is judged by its parsed envelope: one whose apiVersion is
// kdrill.dev/... or whose kind is Scenario is a scenario (and must load;
// it is never skipped), any other YAML (a manifest) is skipped, and so
// are hidden directories and testdata. A path that does not exist, and a
// directory that holds no scenario, are errors.
func Discover(paths []string) (*Discovery, error) {
	d := &Discovery{}
	var errs LoadErrors
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &LoadError{File: p, Msg: statMessage(p, err)})
			continue
		}
		if !st.IsDir() {
			d.Files = append(d.Files, p)
			continue
		}
		found, err := d.walk(p)
		if err != nil {
			errs = append(errs, &LoadError{File: p, Msg: err.Error()})
			continue
		}
		if len(found) == 0 {
			errs = append(errs, &LoadError{File: p, Msg: fmt.Sprintf("no scenario in this directory (a scenario's envelope is apiVersion: %s, kind: %s)", APIVersion, Kind)})
		}
		d.Files = append(d.Files, found...)
	}
	if len(errs) > 0 {
		return d, errs
	}
	return d, nil
}

func (d *Discovery) walk(root string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if path != root && (strings.HasPrefix(e.Name(), ".") || e.Name() == "testdata") {
				d.Skipped = append(d.Skipped, SkippedFile{path, "hidden or testdata directory"})
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml", ".json":
		default:
			return nil
		}
		if ok, reason := isScenarioFile(path); ok {
			found = append(found, path)
		} else {
			d.Skipped = append(d.Skipped, SkippedFile{path, reason})
		}
		return nil
	})
	sort.Strings(found)
	return found, err
}

// isScenarioFile decides from a file's parsed envelope whether it is a
// scenario, or says why not. A file that claims to be kdrill's but cannot
// be read or parsed is taken as a scenario, so that loading it reports the
// problem instead of a silent skip.
func isScenarioFile(path string) (bool, string) {
	data, err := ReadFileLimited(path, MaxScenarioBytes)
	if err != nil {
		return true, "" // loading it says what is wrong
	}
	if textEncodingProblem(data) != "" {
		// UTF-16 keeps ASCII as every other byte: without the zeros, the
		// envelope still shows.
		if claimsKdrill(bytes.ReplaceAll(data, []byte{0}, nil)) {
			return true, ""
		}
		return false, "not UTF-8 text"
	}
	docs, err := ParseDocuments(data)
	if err != nil {
		if claimsKdrill(data) {
			return true, ""
		}
		return false, "not YAML: " + err.Error()
	}
	for _, doc := range docs {
		m, ok := doc.Value.(map[string]any)
		if !ok {
			continue
		}
		apiVersion, _ := m["apiVersion"].(string)
		kind, _ := m["kind"].(string)
		switch {
		case kind == StepsKind && strings.HasPrefix(apiVersion, "kdrill.dev/"):
			return false, "a steps file, included by scenarios"
		case kind == Kind, strings.HasPrefix(apiVersion, "kdrill.dev/"):
			return true, ""
		}
	}
	return false, "not a scenario (no apiVersion kdrill.dev/..., no kind Scenario)"
}

// StepsKind is the kind of a file of steps that scenarios include.
const StepsKind = "Steps"

// claimsKdrill reports whether text that did not parse mentions kdrill's
// envelope, as a broken scenario would.
func claimsKdrill(data []byte) bool {
	return bytes.Contains(data, []byte("kdrill.dev/")) || bytes.Contains(data, []byte(Kind))
}

// statMessage says why a path named on the command line cannot be used.
func statMessage(path string, err error) string {
	if _, lerr := os.Lstat(path); lerr == nil {
		if target, rerr := os.Readlink(path); rerr == nil {
			if isLinkLoop(err) {
				return fmt.Sprintf("symbolic link loop (%s -> %s)", path, target)
			}
			return fmt.Sprintf("symbolic link to %s, which does not exist", target)
		}
	}
	if os.IsPermission(err) {
		return "permission denied"
	}
	return "no such file or directory"
}
