#!/usr/bin/env bash
# The image of the local cluster's Prometheus: Debian's build, unpacked from
# its package into the cache (nothing is installed on the machine and no
# service is started), with the C library it links to, made into an image
# without a registry and imported into the real node's containerd. realnode
# runs it there (cmd/realnode/prometheus.yaml): it scrapes the API server and
# the node's kubelet every 5 s, and scenarios reach it as the Service
# monitoring/prometheus, port 9090. node.sh calls
#
#   prometheus.sh image CONTAINERD_SOCKET MKIMAGE
set -euo pipefail

cache=${KDRILL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kdrill}
state="$cache/realnode"

log() { echo "prometheus: $*" >&2; }

# unpack prints the directory Debian's prometheus package is unpacked in,
# once per package version.
unpack() {
  local v dir tmp
  v=$(apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: *//p')
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    apt-get update -qq >&2
    v=$(apt-cache policy prometheus | sed -n 's/^ *Candidate: *//p')
  fi
  dir="$cache/localcluster/prometheus-$v"
  if [ ! -x "$dir/usr/bin/prometheus" ]; then
    log "unpacking Debian's prometheus $v (first time only)"
    tmp=$(mktemp -d)
    chmod 755 "$tmp" # apt's download user writes here
    (cd "$tmp" && apt-get download -qq "prometheus=$v" >"$tmp/apt.log" 2>&1) ||
      { cat "$tmp/apt.log" >&2; rm -rf "$tmp"; return 1; }
    rm -rf "$dir.tmp"
    dpkg-deb -x "$tmp"/prometheus_*.deb "$dir.tmp"
    rm -rf "$tmp" "$dir" && mv "$dir.tmp" "$dir"
    find "$cache/localcluster" -maxdepth 1 -name 'prometheus-*' ! -path "$dir" -exec rm -rf {} +
  fi
  echo "$dir"
}

# image builds kdrill.local/prometheus:1 once per package version and C
# library, and imports it when containerd does not have that one.
image() {
  local sock=$1 mkimage=$2 dir bin libs=() lib k tar
  dir=$(unpack)
  bin="$dir/usr/bin/prometheus"
  # The dynamic loader and the libraries it names, at the paths it names.
  while read -r lib; do
    libs+=(-file "$lib=$(readlink -f "$lib")")
  done < <(ldd "$bin" | grep -o '/[^ ]*' | sort -u)
  k=$( (sha256sum "$bin"; for lib in $(ldd "$bin" | grep -o '/[^ ]*' | sort -u); do sha256sum "$(readlink -f "$lib")"; done) | sha256sum | cut -c1-16)
  tar="$dir.image-$k.tar"
  if [ ! -f "$tar" ]; then
    "$mkimage" -o "$tar.tmp" -t kdrill.local/prometheus:1 -entrypoint /bin/prometheus \
      -file "/bin/prometheus=$bin" "${libs[@]}" -user 65534:65534 \
      -label "org.opencontainers.image.description=Debian's prometheus $(basename "$dir" | sed 's/^prometheus-//')"
    mv "$tar.tmp" "$tar"
  fi
  if [ "$(cat "$state/image-prometheus" 2>/dev/null)" != "$tar" ] ||
    ! ctr -a "$sock" -n k8s.io images ls -q 2>/dev/null | grep -qx kdrill.local/prometheus:1; then
    ctr -a "$sock" -n k8s.io images import "$tar" >/dev/null
    echo "$tar" >"$state/image-prometheus"
  fi
}

case "${1:-}" in
image) image "${2:?containerd socket}" "${3:?mkimage}" ;;
*)
  echo "usage: $0 image CONTAINERD_SOCKET MKIMAGE" >&2
  exit 2
  ;;
esac
