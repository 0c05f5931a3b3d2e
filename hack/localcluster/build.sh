#!/usr/bin/env bash
# Builds the local cluster's binaries (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok, kwokctl, and the real node's kubelet and
# kube-proxy) from the Go module proxy into a cache
# directory keyed by this module's pinned versions, and prints that directory.
# A second call with the same pins reuses the cache and builds nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kube_version=v1.36.3
kwok_version=v0.8.0

key=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" "$here/cmd/etcd/main.go" "$here/tools.go" | sha256sum | cut -c1-16)
cache=${KDRILL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kdrill}
bin="$cache/localcluster/$kube_version-$key/bin"
tools=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy etcd kwok kwokctl)

# kwokconfig writes the cluster's kwok configuration; it is small and has
# its own key, so changing it does not rebuild the control plane.
build_kwokconfig() {
  local ckey out
  ckey=$(cat "$here/go.mod" "$here/go.sum" "$here"/cmd/kwokconfig/* | sha256sum | cut -c1-16)
  out="$cache/localcluster/kwokconfig-$ckey"
  if [ ! -x "$out" ]; then
    (cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp" ./cmd/kwokconfig >&2) && mv "$out.tmp" "$out"
  fi
  ln -sf "$out" "$1/kwokconfig"
}

complete=1
for t in "${tools[@]}"; do [ -x "$bin/$t" ] || complete=0; done
if [ "$complete" = 1 ]; then
  build_kwokconfig "$bin"
  echo "$bin"
  exit 0
fi

mkdir -p "$bin.tmp"
cd "$here"
minor=${kube_version#v1.}; minor=${minor%%.*}
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
kv=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kv+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  kv+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date -X $pkg.gitCommit=kdrill-localcluster"
done
kwokv="-X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube_version#v}"

echo "building local cluster binaries into $bin (first time only; several minutes)" >&2
export CGO_ENABLED=0
go build -trimpath -ldflags "-s -w $kv" -o "$bin.tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy >&2
go build -trimpath -ldflags "-s -w $kv $kwokv" -o "$bin.tmp/" \
  sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl >&2
go build -trimpath -ldflags "-s -w" -o "$bin.tmp/etcd" ./cmd/etcd >&2

rm -rf "$bin"
mv "$bin.tmp" "$bin"
build_kwokconfig "$bin"
echo "$bin"
