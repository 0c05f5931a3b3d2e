#!/usr/bin/env bash
# Builds kdrill's container image from this checkout, without Docker or a
# registry: the static binary in one layer (go-containerregistry, through
# hack/localcluster/images/cmd/mkimage), run as the non-root user
# 65532:65532, working in /tmp (mount a volume there, or anywhere, for a
# read-only root filesystem), with OCI labels naming the version and
# revision. The same source gives the same digest: -trimpath, fixed times,
# sorted entries, no build date.
#
#   hack/image.sh [--no-load] [OUT_DIR]    (default OUT_DIR: bin/image)
#
# writes OUT_DIR/kdrill.tar (a docker archive, which containerd imports)
# and OUT_DIR/oci (an OCI image layout, which crane, skopeo or ko can push),
# prints the image's digest, and loads it into the local cluster's real
# node when that runs (not with --no-load).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
load=1
if [ "${1:-}" = --no-load ]; then load=0; shift; fi
out=$(mkdir -p "${1:-$root/bin/image}" && cd "${1:-$root/bin/image}" && pwd)
tag=${KDRILL_IMAGE_TAG:-kdrill.local/kdrill:dev}
version=${VERSION:-$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo dev)}
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
mkimage=${MKIMAGE:-}
if [ -z "$mkimage" ]; then
  mkimage=$root/bin/tools/mkimage
  (cd "$root/hack/localcluster/images" && CGO_ENABLED=0 go build -trimpath -o "$mkimage" ./cmd/mkimage)
fi
start=$(date +%s%N)
(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$out/kdrill" ./cmd/kdrill)
digest=$("$mkimage" -o "$out/kdrill.tar" -oci "$out/oci" -digest -t "$tag" \
  -entrypoint /kdrill -user 65532:65532 -workdir /tmp -env HOME=/tmp -dir /tmp \
  -label org.opencontainers.image.title=kdrill \
  -label org.opencontainers.image.description="declarative Kubernetes drills: scenarios, chaos, labs" \
  -label org.opencontainers.image.version="$version" \
  -label org.opencontainers.image.revision="$revision" \
  -label org.opencontainers.image.source=https://github.com/kdrill/kdrill \
  -file "/kdrill=$out/kdrill")
rm -f "$out/kdrill"
echo "$digest" >"$out/digest"
size=$(stat -c %s "$out/kdrill.tar")
ms=$((($(date +%s%N) - start) / 1000000))
printf 'image %s %s (%d MiB) built in %d.%ds: %s\n' "$tag" "$digest" $((size >> 20)) $((ms / 1000)) $((ms % 1000 / 100)) "$out" >&2
if [ "$load" = 1 ] && "$root/hack/localcluster/node.sh" status >/dev/null 2>&1; then
  "$root/hack/localcluster/node.sh" load "$out/kdrill.tar" "$tag" >&2
fi
echo "$digest"
