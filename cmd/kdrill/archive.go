package main

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// A scenario directory may come packed as a .tar.gz (a .tgz): the form a
// ConfigMap carries a directory tree in (binaryData; a ConfigMap's keys
// cannot hold directories), as deploy/indexed-job.yaml mounts it. kdrill
// unpacks it into a temporary directory, refusing what a directory of
// scenarios never holds: links, devices, paths that leave it, and more
// than a bound of files or bytes.

const (
	maxArchiveBytes   = 32 << 20
	maxArchiveEntries = 4096
)

// unpacked are the temporary directories archives went to, removed when
// the command ends.
var unpacked struct {
	sync.Mutex
	dirs []string
}

// removeUnpacked removes what unpackArchives made.
func removeUnpacked() {
	unpacked.Lock()
	defer unpacked.Unlock()
	for _, d := range unpacked.dirs {
		_ = os.RemoveAll(d)
	}
	unpacked.dirs = nil
}

// isArchive says the path names a packed scenario directory.
func isArchive(p string) bool {
	return strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tgz")
}

// unpackArchives replaces each archive among the paths with the directory
// it was unpacked into.
func unpackArchives(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = p
		if !isArchive(p) {
			continue
		}
		dir, err := os.MkdirTemp("", "kdrill-scenarios-")
		if err != nil {
			return nil, fmt.Errorf("unpack %s: %w", p, err)
		}
		unpacked.Lock()
		unpacked.dirs = append(unpacked.dirs, dir)
		unpacked.Unlock()
		if err := unpack(p, dir); err != nil {
			return nil, usagef("%s: %v", p, err)
		}
		out[i] = dir
	}
	return out, nil
}

func unpack(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("not a gzip-compressed tar: %w", err)
	}
	tr := tar.NewReader(gz)
	var total int64
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not a tar archive: %w", err)
		}
		if n >= maxArchiveEntries {
			return fmt.Errorf("more than %d entries: a scenario directory is smaller", maxArchiveEntries)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("%s: leaves the archive's directory", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			total += h.Size
			if total > maxArchiveBytes {
				return fmt.Errorf("more than %d MiB unpacked: a scenario directory is smaller", maxArchiveBytes>>20)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := writeEntry(target, tr, h.Size); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		default:
			return fmt.Errorf("%s: only files and directories are unpacked (links and devices are refused)", h.Name)
		}
	}
}

func writeEntry(target string, r io.Reader, size int64) error {
	w, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(w, r, size); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}
