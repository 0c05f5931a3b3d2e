package scenario

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ReadFileLimited reads a regular file of at most limit bytes. A named
// pipe, a device or a socket is refused before it is opened (opening a pipe
// would wait for a writer), and so is a symbolic link loop, by name.
func ReadFileLimited(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	switch {
	case st.IsDir():
		return nil, fmt.Errorf("is a directory, not a file")
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("is a %s, not a regular file", fileType(st.Mode()))
	case st.Size() > limit:
		return nil, fmt.Errorf("file is %d bytes, larger than the %d kdrill reads", st.Size(), limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("file is larger than the %d bytes kdrill reads", limit)
	}
	return data, nil
}

// FileError says in a person's words why a file could not be opened or
// resolved: a link loop, a dangling link, a missing file, no permission.
func FileError(path string, err error) error { return fileError(path, err) }

func fileError(path string, err error) error {
	switch {
	case isLinkLoop(err):
		return fmt.Errorf("symbolic link loop: %s resolves to itself", path)
	case errors.Is(err, os.ErrNotExist):
		if target, lerr := os.Readlink(path); lerr == nil {
			return fmt.Errorf("symbolic link to %s, which does not exist", target)
		}
		return fmt.Errorf("file not found")
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("permission denied")
	}
	return fmt.Errorf("cannot read: %w", errors.Unwrap(err))
}

func isLinkLoop(err error) bool {
	// filepath.EvalSymlinks says so in words, not with ELOOP.
	return errors.Is(err, syscall.ELOOP) || strings.Contains(err.Error(), "too many links")
}

func fileType(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// ResolvePath resolves a path relative to Dir (the scenario's directory, or
// an included steps file's) and refuses one that leaves Root, the
// scenario's directory, through .. or a symbolic link, unless
// AllowOutsidePaths is set.
func (s *Scenario) ResolvePath(rel string) (string, error) {
	root := s.root()
	if filepath.IsAbs(rel) && !s.AllowOutsidePaths {
		return "", fmt.Errorf("%s: use a path relative to the scenario file", rel)
	}
	path := rel
	if !filepath.IsAbs(rel) {
		path = filepath.Join(s.Dir, rel)
	}
	if !within(root, path) && !s.AllowOutsidePaths {
		return "", fmt.Errorf("%s: leaves the scenario's directory (--allow-outside-paths permits it)", rel)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		if os.IsNotExist(err) {
			if _, lerr := os.Lstat(path); lerr != nil {
				return "", fmt.Errorf("%s: file not found (looked in %s)", rel, s.Dir)
			}
		}
		return "", fmt.Errorf("%s: %w", rel, fileError(path, err))
	}
	dir, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	if !within(dir, real) && !s.AllowOutsidePaths {
		return "", fmt.Errorf("%s: is a link that leaves the scenario's directory (--allow-outside-paths permits it)", rel)
	}
	return real, nil
}

// root is the directory no path may leave: the scenario's.
func (s *Scenario) root() string {
	if s.Root != "" {
		return s.Root
	}
	return s.Dir
}

func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
