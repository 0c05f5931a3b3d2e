#!/usr/bin/env bash
# The local cluster's real node, beside kwok's simulated ones: a kubelet
# and kube-proxy built from the same k8s.io/kubernetes module as the
# control plane, Debian's containerd, runc and CNI plugins, the cluster's
# DNS (CoreDNS, built from its module, run as a pod), NetworkPolicy
# enforced by kube-router in firewall-only mode, the default
# StorageClass's provisioner (volumes are directories on this machine) and
# a Prometheus scraping it and the API server (Debian's, prometheus.sh). Images come from this
# repository's Go code, imported into containerd without a registry.
#
# The node is named kdrill-real, labelled and tainted kdrill.dev/real=true
# (NoSchedule), so only pods that ask for it land there. cluster.sh calls
#
#   node.sh can              exit 0 when this machine can run it, else say why
#   node.sh build            build (or find) its programs and images
#   node.sh up BIN KUBECONFIG PKI
#   node.sh down BIN KUBECONFIG
#   node.sh status
#   node.sh leftovers        what down left on this machine (none: exit 0)
#
# down leaves no process, mount, interface, iptables chain or ipset of its
# own behind, and puts back the one kernel setting up changed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KDRILL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kdrill}
node=kdrill-real
run=/run/kdrill-node
state="$cache/realnode"
kubelet_root=/var/lib/kdrill-kubelet
volumes=/var/lib/kdrill-volumes
pod_cidr=10.244.0.0/24
cluster_dns=10.96.0.10
bridge=kdrill0
sock="$run/containerd.sock"
packages=(containerd runc containernetworking-plugins iptables ipset conntrack iproute2)

log() { echo "real node: $*" >&2; }

# can says why this machine cannot run the real node, or nothing.
can() {
  if [ "${KDRILL_REAL_NODE:-1}" = 0 ]; then echo "KDRILL_REAL_NODE=0 turns it off"; return; fi
  if [ "$(id -u)" != 0 ]; then echo "it needs root (containers, network interfaces, iptables)"; return; fi
  if [ ! -d /sys/fs/cgroup/memory ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "no cgroup file system at /sys/fs/cgroup"; return
  fi
  if command -v ip >/dev/null && [ -z "$(host_ip)" ]; then
    echo "this machine has no IPv4 address besides loopback for the kubelet to serve on"; return
  fi
  if ! command -v apt-get >/dev/null && ! have_packages; then
    echo "containerd, runc and the CNI plugins are missing and there is no apt-get to install them"; return
  fi
}

have_packages() {
  command -v containerd >/dev/null && command -v runc >/dev/null && command -v ctr >/dev/null &&
    [ -x /usr/lib/cni/bridge ] && command -v iptables >/dev/null && command -v ipset >/dev/null &&
    command -v conntrack >/dev/null && command -v ip >/dev/null
}

# deps installs Debian's packages the node runs on, once.
deps() {
  have_packages && return
  log "installing ${packages[*]} from Debian's packages (once)"
  # apt takes its own lock; a second make waits for the first.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2; }
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# build_go NAME DIR PACKAGE KEYFILES...: builds PACKAGE of the module in
# DIR, once for a given content of KEYFILES, links it as $out/NAME, and
# prints its key.
build_go() {
  local name=$1 dir=$2 pkg=$3 k bin
  shift 3
  k=$(hash_of "$@")
  bin="$cache/localcluster/$name-$k"
  if [ ! -x "$bin" ]; then
    log "building $name (first time only; CoreDNS and kube-router take a few minutes)"
    (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$bin.tmp" "$pkg" >&2)
    mv "$bin.tmp" "$bin"
  fi
  ln -sf "$bin" "$out/$name"
  echo "$k"
}

# build (build_locked) builds CoreDNS, kube-router, the helper and the images, each
# cached under a key of its own inputs, and prints the directory that
# links to them.
build() {
  mkdir -p "$cache/localcluster"
  # Two makes at once (a demo in one terminal, tests in another) wait for
  # one build instead of writing the same files.
  (
    if ! flock -n 9; then
      log "waiting for another build of the real node's programs to finish"
      flock 9
    fi
    build_locked
  ) 9>"$cache/localcluster/.node-build.lock"
}

build_locked() {
  local out="$cache/localcluster/realnode" k
  mkdir -p "$out"
  export CGO_ENABLED=0
  local corednskey
  corednskey=$(build_go coredns "$here/coredns" . "$here/coredns/go.mod" "$here/coredns/go.sum" "$here/coredns/main.go")
  build_go kube-router "$here/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router \
    "$here/kube-router/go.mod" "$here/kube-router/go.sum" >/dev/null
  build_go storage "$here/storage" . "$here/storage/go.mod" "$here/storage/go.sum" "$here/storage/main.go" >/dev/null
  build_go realnode "$here" ./cmd/realnode "$here/go.mod" "$here/go.sum" "$here"/cmd/realnode/* >/dev/null
  # The images' key: their programs, and this script (which says what is
  # in each image).
  k=$(cd "$here/images" && cat go.mod go.sum $(find cmd -name '*.go' | sort) "$here/node.sh" | sha256sum | cut -c1-16)-$corednskey
  local images="$cache/localcluster/images-$k"
  if [ ! -f "$images/done" ]; then
    log "building the node's images"
    rm -rf "$images.tmp" && mkdir -p "$images.tmp/bin"
    (cd "$here/images" && go build -trimpath -ldflags "-s -w" -o "$images.tmp/bin/" ./cmd/... >&2)
    local mk="$images.tmp/bin/mkimage" t
    "$mk" -o "$images.tmp/pause.tar" -t kdrill.local/pause:1 -entrypoint /pause -file "/pause=$images.tmp/bin/pause"
    "$mk" -o "$images.tmp/testing-service.tar" -t kdrill.local/testing-service:1 -entrypoint /testing-service \
      -file "/testing-service=$images.tmp/bin/testing-service"
    local links=()
    for t in wget nslookup ping nc sleep kill echo cat tee hostname env true false; do links+=(-link "/bin/$t=toolbox"); done
    "$mk" -o "$images.tmp/toolbox.tar" -t kdrill.local/toolbox:1 -entrypoint /bin/toolbox,sleep,infinity \
      -file "/bin/toolbox=$images.tmp/bin/toolbox" "${links[@]}" -dir /tmp
    "$mk" -o "$images.tmp/coredns.tar" -t kdrill.local/coredns:1 -entrypoint /coredns -file "/coredns=$out/coredns"
    touch "$images.tmp/done"
    rm -rf "$images" && mv "$images.tmp" "$images"
    find "$cache/localcluster" -maxdepth 1 -name 'images-*' ! -path "$images" -exec rm -rf {} +
  fi
  ln -sfn "$images" "$out/images"
  kdrill_image
  echo "$out"
}

# kdrill_image builds kdrill itself from this checkout into
# kdrill.local/kdrill:dev, for runs inside the cluster, keyed by the main
# module's sources (a change to them builds it again at the next up; the
# Go build cache makes that quick).
kdrill_image() {
  local root k dir
  root=$(cd "$here/../.." && pwd)
  k=$(cd "$root" && find . -path ./hack -prune -o -path ./bin -prune -o \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) -print |
    LC_ALL=C sort | xargs cat | cat - "$root/hack/image.sh" | sha256sum | cut -c1-16)
  dir="$cache/localcluster/kdrill-image-$k"
  if [ ! -f "$dir/kdrill.tar" ]; then
    log "building kdrill's image"
    rm -rf "$dir.tmp"
    MKIMAGE="$out/images/bin/mkimage" VERSION="dev-$k" "$root/hack/image.sh" --no-load "$dir.tmp" >/dev/null
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    # Only the newest is kept: each change of the code makes another.
    find "$cache/localcluster" -maxdepth 1 -name 'kdrill-image-*' ! -path "$dir" -exec rm -rf {} +
  fi
  ln -sfn "$dir" "$out/kdrill-image"
}

# host_ip is this machine's address the kubelet serves on: the default
# route's source, or else the first global IPv4 address.
host_ip() {
  local ip
  ip=$(ip -4 -o route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
  [ -n "$ip" ] || ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ print $4 }' | cut -d/ -f1 | head -n 1)
  echo "$ip"
}

alive() { [ -f "$run/pids/$1" ] && kill -0 "$(cat "$run/pids/$1")" 2>/dev/null; }

status() { alive containerd && alive kubelet && alive kube-proxy && alive kube-router && alive storage; }

# start NAME COMMAND...: a daemon in its own session, its log and pid
# under $run.
start() {
  local name=$1; shift
  setsid "$@" >>"$run/logs/$name.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$run/pids/$name"
}

stop() {
  local name=$1 pid
  [ -f "$run/pids/$name" ] || return 0
  pid=$(cat "$run/pids/$name")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$run/pids/$name"
}

write_configs() {
  local pki=$1 ip=$2
  mkdir -p "$run/cni" "$run/logs" "$run/pids" "$state/containerd" "$kubelet_root"
  cat >"$run/containerd.toml" <<EOF
version = 2
root = "$state/containerd"
state = "$run/containerd"
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "kdrill.local/pause:1"
  # No CAP_SYS_RESOURCE here: runc cannot lower oom_score_adj.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$run/cni"
EOF
  cat >"$run/cni/10-kdrill.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kdrill",
  "plugins": [
    {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$pod_cidr"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$run/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  cat >"$run/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$sock
address: $ip
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
clusterDNS: [$cluster_dns]
clusterDomain: cluster.local
resolvConf: $run/resolv.conf
failSwapOn: false
registerWithTaints:
- {key: kdrill.dev/real, value: "true", effect: NoSchedule}
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
EOF
  # Pods with dnsPolicy Default (the DNS itself) get the host's resolvers.
  cp /etc/resolv.conf "$run/resolv.conf" 2>/dev/null || : >"$run/resolv.conf"
}

# import_images puts the images built from this checkout into containerd,
# those that changed since the last import.
import_images() {
  local out=$1
  local have t
  have=$(ctr -a "$sock" -n k8s.io images ls -q 2>/dev/null || true)
  local tar ref
  for tar in "$out"/images/pause.tar "$out"/images/testing-service.tar "$out"/images/toolbox.tar \
    "$out"/images/coredns.tar "$out"/kdrill-image/kdrill.tar; do
    t=$(basename "$tar" .tar)
    ref=kdrill.local/$t:1
    if [ "$t" = kdrill ]; then ref=kdrill.local/kdrill:dev; fi
    if ! grep -qx "$ref" <<<"$have" || [ "$(cat "$state/image-$t" 2>/dev/null)" != "$(readlink -f "$tar")" ]; then
      ctr -a "$sock" -n k8s.io images import "$tar" >/dev/null
      readlink -f "$tar" >"$state/image-$t"
    fi
  done
  "$here/prometheus.sh" image "$sock" "$out/images/bin/mkimage"
}

up() {
  local bin=$1 kubeconfig=$2 pki=$3 out ip
  if status; then
    # Running: its images still follow the checkout (kdrill's own).
    out=$(build)
    import_images "$out"
    # Its add-ons follow the checkout too.
    "$out/realnode" up "$kubeconfig" "$node"
    log "running"
    return 0
  fi
  deps
  out=$(build)
  down_local # leftovers of a node that was not stopped
  ip=$(host_ip)
  [ -n "$ip" ] || { log "cannot tell this machine's address"; return 1; }
  write_configs "$pki" "$ip"
  # The kernel forwards between the pods' bridge and the rest; what it
  # said before is put back by down.
  cat /proc/sys/net/ipv4/ip_forward >"$run/ip_forward.before"
  echo 1 >/proc/sys/net/ipv4/ip_forward
  if [ -w /proc/sys/net/bridge/bridge-nf-call-iptables ]; then echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables; fi

  start containerd containerd --config "$run/containerd.toml"
  for _ in $(seq 100); do [ -S "$sock" ] && ctr -a "$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
  import_images "$out"
  start kubelet "$bin/kubelet" --config "$run/kubelet.yaml" --kubeconfig "$kubeconfig" \
    --hostname-override "$node" --node-ip "$ip" --node-labels kdrill.dev/real=true \
    --root-dir "$kubelet_root" --cert-dir "$run/kubelet-pki"
  start kube-proxy "$bin/kube-proxy" --kubeconfig "$kubeconfig" --hostname-override "$node" \
    --proxy-mode iptables --cluster-cidr "$pod_cidr" \
    --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256 \
    --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0
  if ! "$out/realnode" up "$kubeconfig" "$node"; then
    log "did not come up; its logs: $run/logs"
    return 1
  fi
  # kube-router finds its node by name: only once the kubelet has
  # registered it.
  start kube-router "$out/kube-router" --kubeconfig "$kubeconfig" --hostname-override "$node" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --enable-ipv6=false --metrics-port 0 --health-port 20244
  start storage "$out/storage" "$kubeconfig" "$volumes"
  for _ in $(seq 150); do
    curl -fs --max-time 1 http://127.0.0.1:20244/healthz >/dev/null 2>&1 && break
    alive kube-router || break
    sleep 0.2
  done
  if ! status; then
    log "a component stopped while starting; its logs: $run/logs"
    return 1
  fi
  log "node $node is Ready with the cluster's DNS at $cluster_dns and Prometheus at monitoring/prometheus:9090"
}

# down takes the node away: pods first, through the API while the kubelet
# still runs, then the programs, then what they left in the kernel.
down() {
  local bin=$1 kubeconfig=$2 out="$cache/localcluster/realnode"
  if [ -x "$out/realnode" ] && [ -f "$kubeconfig" ] && alive kubelet; then
    timeout 90 "$out/realnode" drain "$kubeconfig" "$node" || log "could not take every pod off the node first"
  fi
  down_local
  if [ -x "$out/realnode" ] && [ -f "$kubeconfig" ]; then
    timeout 30 "$out/realnode" forget "$kubeconfig" "$node" >/dev/null 2>&1 || true
  fi
}

# down_local stops the node's programs and removes what they left on this
# machine; it needs no API server.
down_local() {
  [ -d "$run" ] || [ -d "$kubelet_root" ] || return 0
  stop storage
  stop kube-router
  stop kube-proxy
  stop kubelet
  if [ -S "$sock" ]; then
    local c
    for c in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
    done
  fi
  stop containerd
  # Shims outlive containerd; theirs are the ones started with its socket.
  pkill -KILL -f "containerd-shim.* -address $sock" 2>/dev/null || true
  pkill -KILL -f "^$kubelet_root" 2>/dev/null || true
  # Mounts under the kubelet's and containerd's directories, deepest first.
  awk -v a="$kubelet_root" -v b="$run" -v c="$state/containerd" \
    'index($2, a) == 1 || index($2, b) == 1 || index($2, c) == 1 { print $2 }' /proc/mounts |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done || true
  # Network namespaces' veths die with them; the bridge does not.
  ip link del "$bridge" 2>/dev/null || true
  # Chains of kube-proxy, kube-router, the kubelet and the CNI plugins.
  local chain t
  for t in filter nat mangle raw; do
    iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\([^ ]*\) .*/\1/p' | grep -E '^(KUBE-|CNI-)' >"$run.chains.$t" 2>/dev/null || true
    # References from the built-in chains first, then the chains.
    iptables-save -t "$t" 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*-j (KUBE-|CNI-)' |
      sed 's/^-A/-D/' | while read -r rule; do eval "iptables -t $t $rule" 2>/dev/null || true; done || true
    while read -r chain; do iptables -t "$t" -F "$chain" 2>/dev/null || true; done <"$run.chains.$t"
    while read -r chain; do iptables -t "$t" -X "$chain" 2>/dev/null || true; done <"$run.chains.$t"
    rm -f "$run.chains.$t"
  done
  ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router)' | while read -r s; do ipset destroy "$s" 2>/dev/null || true; done || true
  if [ -f "$run/ip_forward.before" ]; then cat "$run/ip_forward.before" >/proc/sys/net/ipv4/ip_forward; fi
  rm -rf "$run" "$kubelet_root" "$volumes"
}

# leftovers lists what of the real node is still on this machine after
# down (processes, mounts, the bridge, iptables chains, ipsets,
# directories), and fails when anything is.
leftovers() {
  local found=0 what t
  report() { echo "left behind: $*"; found=1; }
  for what in "$run/" "$kubelet_root" "--hostname-override $node" "$volumes"; do
    pgrep -af -- "$what" 2>/dev/null || true
  done | sort -u | grep -v "pgrep" | sed 's/^/left behind: process /' | grep . && found=1
  awk -v a="$kubelet_root" -v b="$run" -v c="$state/containerd" \
    'index($2, a) == 1 || index($2, b) == 1 || index($2, c) == 1 { print $2 }' /proc/mounts |
    while read -r m; do echo "left behind: mount $m"; done | grep . && found=1
  ip link show "$bridge" >/dev/null 2>&1 && report "network interface $bridge"
  for t in filter nat mangle raw; do
    iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p' | grep . | sed "s/^/left behind: iptables chain $t /" && found=1
  done
  ipset list -n 2>/dev/null | grep -E '^(KUBE-|kube-router)' | sed 's/^/left behind: ipset /' && found=1
  for what in "$run" "$kubelet_root" "$volumes"; do
    [ -e "$what" ] && report "directory $what"
  done
  [ "$found" = 0 ]
}

cmd=${1:-}
case "$cmd" in
leftovers) leftovers ;;
can)
  why=$(can)
  if [ -n "$why" ]; then echo "$why"; exit 1; fi
  ;;
build) build ;;
up) up "${2:?bin dir}" "${3:?kubeconfig}" "${4:?pki dir}" ;;
down) down "${2:?bin dir}" "${3:?kubeconfig}" ;;
status) if status; then echo running; else echo stopped; exit 1; fi ;;
load)
  # An image archive built elsewhere (make image), into the node's containerd.
  status || { log "not running: nothing to load into"; exit 1; }
  ctr -a "$sock" -n k8s.io images import "${2:?image tar}" >/dev/null
  log "loaded ${3:-$2}"
  ;;
*)
  echo "usage: $0 can|build|up BIN KUBECONFIG PKI|down BIN KUBECONFIG|status|leftovers|load TAR [NAME]" >&2
  exit 2
  ;;
esac
