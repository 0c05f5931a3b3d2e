// Command mkimage writes a one-layer container image of static programs
// as a docker-archive tar that containerd imports (ctr images import), so
// the real node runs images built from this repository without a registry.
//
//	mkimage -o OUT.tar -t kdrill.local/toolbox:1 -entrypoint /bin/toolbox \
//	  -file /bin/toolbox=PATH -link /bin/wget=toolbox -dir /tmp
//
// -user, -workdir and -label set the image's configuration; -oci DIR also
// writes it as an OCI image layout; -digest prints its digest. The same
// inputs give the same image, to the digest: fixed times, sorted entries.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type pairs []string

func (p *pairs) String() string     { return strings.Join(*p, ",") }
func (p *pairs) Set(v string) error { *p = append(*p, v); return nil }

func main() {
	var files, links, dirs, env, labels pairs
	out := flag.String("o", "", "the docker-archive tar to write")
	tag := flag.String("t", "", "the image's name, as pods name it")
	entrypoint := flag.String("entrypoint", "", "the program to run, with arguments separated by commas")
	flag.Var(&files, "file", "IMAGE_PATH=HOST_PATH: a file to copy in (repeatable)")
	flag.Var(&links, "link", "IMAGE_PATH=TARGET: a symbolic link (repeatable)")
	flag.Var(&dirs, "dir", "IMAGE_PATH: an empty directory, mode 1777 (repeatable)")
	flag.Var(&env, "env", "NAME=VALUE in the image's environment (repeatable)")
	flag.Var(&labels, "label", "NAME=VALUE: a label of the image (repeatable)")
	user := flag.String("user", "", "the user the image runs as, UID:GID")
	workdir := flag.String("workdir", "", "the image's working directory")
	oci := flag.String("oci", "", "also write the image as an OCI image layout in this directory")
	digest := flag.Bool("digest", false, "print the image's digest (sha256:...)")
	flag.Parse()
	if *out == "" || *tag == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg := v1.Config{Env: append([]string{"PATH=/bin"}, env...), User: *user, WorkingDir: *workdir}
	if *entrypoint != "" {
		cfg.Entrypoint = strings.Split(*entrypoint, ",")
	}
	for _, l := range labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "mkimage: -label %q: want NAME=VALUE\n", l)
			os.Exit(2)
		}
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[k] = v
	}
	img, err := write(*out, *tag, cfg, files, links, dirs)
	if err == nil && *oci != "" {
		err = writeLayout(*oci, *tag, img)
	}
	if err == nil && *digest {
		var d v1.Hash
		if d, err = img.Digest(); err == nil {
			fmt.Println(d)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// writeLayout writes the image as an OCI image layout, named by its tag.
func writeLayout(dir, tag string, img v1.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}))
}

func write(out, tag string, cfg v1.Config, files, links, dirs []string) (v1.Image, error) {
	ref, err := name.ParseReference(tag)
	if err != nil {
		return nil, err
	}
	layer, err := layerTar(files, links, dirs)
	if err != nil {
		return nil, err
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer)), nil }, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{Architecture: "amd64", OS: "linux", Config: cfg, RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(base, l)
	if err != nil {
		return nil, err
	}
	img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return nil, err
	}
	return img, os.Rename(tmp, out)
}

// layerTar is the image's one layer: directories, files and links, in a
// stable order with a fixed time, so the same inputs give the same image.
func layerTar(files, links, dirs []string) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	seen := map[string]bool{}
	mkdirs := func(p string) error {
		var parents []string
		for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
		}
		for _, d := range parents {
			if seen[d] {
				continue
			}
			seen[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: epoch}); err != nil {
				return err
			}
		}
		return nil
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if err := mkdirs(d + "/x"); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o1777, ModTime: epoch}); err != nil {
			return nil, err
		}
		seen[d] = true
	}
	sort.Strings(files)
	for _, f := range files {
		dst, src, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("-file %q: want IMAGE_PATH=HOST_PATH", f)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		if err := mkdirs(dst); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dst, "/"), Mode: 0o755, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	sort.Strings(links)
	for _, l := range links {
		dst, target, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("-link %q: want IMAGE_PATH=TARGET", l)
		}
		if err := mkdirs(dst); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(dst, "/"), Linkname: target, Mode: 0o777, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
