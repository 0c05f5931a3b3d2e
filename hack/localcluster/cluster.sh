#!/usr/bin/env bash
# Starts (up), stops (down) or describes (status, kubeconfig) kdrill's local
# cluster: a real kube-apiserver, etcd, kube-controller-manager and
# kube-scheduler run as local processes by kwokctl, with kwok simulating nodes
# and pod lifecycles, and, in kdrill's own cluster on a machine that can run
# one, a real node beside them (node.sh). Every command is idempotent. The
# control plane's flags are in its kwok configuration (cmd/kwokconfig).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KDRILL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kdrill}
name=${KDRILL_CLUSTER_NAME:-kdrill}
nodes=${KDRILL_CLUSTER_NODES:-5}
pods_per_node=${KDRILL_CLUSTER_PODS_PER_NODE:-1000}
export KWOK_WORKDIR="$cache/kwok"
# kdrill's own cluster keeps the kubeconfig path it always had; a second
# one beside it (KDRILL_CLUSTER_NAME=kdrill2) gets its own file.
kubeconfig="$cache/kubeconfig"
if [ "$name" != kdrill ]; then kubeconfig="$cache/kubeconfig-$name"; fi
# kwok's configuration: its default stages, a crash-loop stage, and the
# logs every simulated container serves (cmd/kwokconfig).
kwok_config="$cache/kwok-config/$name.yaml"
config_marker="$KWOK_WORKDIR/clusters/$name/kdrill-config.sha256"

kwokctl() { "$bin/kwokctl" --name "$name" "$@"; }

# build_bin builds (or finds) the binaries and prints their directory. Two
# makes at once (a demo in one terminal, tests in another) wait for one
# build instead of writing into the same directory.
build_bin() {
  mkdir -p "$cache/localcluster"
  (
    if ! flock -n 9; then
      echo "waiting for another build of the local cluster's binaries to finish" >&2
      flock 9
    fi
    "$here/build.sh"
  ) 9>"$cache/localcluster/.build.lock"
}

# write_config writes kwok's configuration as this checkout says it should
# be, so that a running cluster started with another is recognised.
write_config() {
  mkdir -p "$cache/kwok-config"
  # Written aside and renamed, so a status check running beside it never
  # reads half a file (and takes a running cluster for another one).
  "$bin/kwokconfig" "$kwok_config.tmp.$$" "$cache/kwok-config" "$KWOK_WORKDIR/clusters/$name/pki"
  mv -f "$kwok_config.tmp.$$" "$kwok_config"
}

running() {
  [ -f "$kubeconfig" ] || return 1
  # A cluster started with another kwok configuration is not this one.
  [ -f "$config_marker" ] && [ -f "$kwok_config" ] || return 1
  [ "$(cat "$config_marker")" = "$(sha256sum < "$kwok_config" | cut -c1-64)" ] || return 1
  # grep reads all of it: with -q it could stop early, and pipefail would
  # then count kwokctl's broken pipe as "no such cluster".
  "$bin/kwokctl" get clusters 2>/dev/null | grep -x "$name" >/dev/null || return 1
  # the API server answers /readyz
  local server
  server=$(sed -n 's/^ *server: *//p' "$kubeconfig" | head -n 1)
  [ -n "$server" ] || return 1
  curl -fsk --max-time 2 "$server/readyz" >/dev/null 2>&1 || \
    KUBECONFIG="$kubeconfig" "$bin/kwokctl" --name "$name" kubectl get --raw /readyz >/dev/null 2>&1
}

# holdport_bin builds (or finds) the program that holds a stopped
# server's port, keyed by its own source, and prints its path.
holdport_bin() {
  local k out
  k=$(cat "$here/go.mod" "$here/go.sum" "$here"/cmd/holdport/* | sha256sum | cut -c1-16)
  out="$cache/localcluster/holdport-$k"
  if [ ! -x "$out" ]; then
    (cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$out.tmp.$$" ./cmd/holdport >&2) && mv "$out.tmp.$$" "$out"
  fi
  echo "$out"
}

# real_node says whether this cluster gets the real node: kdrill's own,
# on a machine that can run one (node.sh can says why not).
real_node() {
  [ "$name" = kdrill ] || return 1
  local why
  if why=$("$here/node.sh" can); then return 0; fi
  echo "local cluster $name: no real node on this machine: $why" >&2
  return 1
}

# node_up starts the real node (node.sh builds what it needs, once).
node_up() {
  real_node || return 0
  "$here/node.sh" up "$bin" "$kubeconfig" "$KWOK_WORKDIR/clusters/$name/pki" 8>&-
}

cmd=${1:-up}
case "$cmd" in
build)
  build_bin
  if real_node; then "$here/node.sh" build >/dev/null; fi
  ;;
up)
  bin=$(build_bin)
  write_config
  # One "up" of a cluster at a time: a second waits, then finds it running.
  mkdir -p "$cache"
  exec 8>"$cache/up-$name.lock"
  flock 8
  if running; then
    node_up
    echo "local cluster $name is running; kubeconfig: $kubeconfig" >&2
    echo "$kubeconfig"
    exit 0
  fi
  # A cluster whose API server still runs may only be slow to answer on a
  # busy machine: it is asked again, with backoff, for up to a minute before
  # it is called broken. Only a broken one is removed, and that is said.
  if [ -f "$kubeconfig" ] && [ "$(cat "$config_marker" 2>/dev/null)" = "$(sha256sum < "$kwok_config" | cut -c1-64)" ] &&
    pgrep -f "^$KWOK_WORKDIR/clusters/$name/bin/kube-apiserver" >/dev/null 2>&1; then
    for wait in 1 2 4 8 15 30; do
      echo "local cluster $name runs but does not answer yet; asking again in ${wait}s" >&2
      sleep "$wait"
      if running; then
        node_up
        echo "local cluster $name is running; kubeconfig: $kubeconfig" >&2
        echo "$kubeconfig"
        exit 0
      fi
    done
    echo "local cluster $name did not answer for a minute: removing it and starting a new one" >&2
  fi
  # A cluster left half-made by an earlier run is removed first, its
  # real node with it.
  if [ "$name" = kdrill ]; then "$here/node.sh" down "$bin" "$kubeconfig" || true; fi
  kwokctl delete cluster >/dev/null 2>&1 || true
  pkill -KILL -f "^$KWOK_WORKDIR/clusters/$name/bin/" 2>/dev/null || true
  mkdir -p "$cache"
  rm -f "$kubeconfig"
  # The components kwokctl starts must not inherit the lock (fd 8): a
  # running cluster would hold it, and the next "up" would wait forever.
  # kwokctl's own log (structured lines) goes to a file, shown when it
  # fails: a newcomer's first screen says what happens, not how.
  log="$cache/kwokctl-$name.log"
  : >"$log"
  echo "starting local cluster $name (kwokctl's log: $log)" >&2
  quiet() { "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; return 1; }; }
  quiet kwokctl create cluster 8>&- \
    --runtime binary \
    --kube-apiserver-binary "$bin/kube-apiserver" \
    --kube-controller-manager-binary "$bin/kube-controller-manager" \
    --kube-scheduler-binary "$bin/kube-scheduler" \
    --kwok-controller-binary "$bin/kwok" \
    --etcd-binary "$bin/etcd" \
    --disable-qps-limits \
    --kubeconfig "$kubeconfig" \
    --config "$kwok_config" \
    --wait 120s
  sha256sum < "$kwok_config" | cut -c1-64 > "$config_marker"
  # kwok's nodes answer (logs, exec, port-forward) at loopback addresses,
  # 127.0.0.1 up, which the API server reaches by address.
  quiet kwokctl scale node 8>&- --replicas "$nodes" \
    --param ".allocatable.pods=\"$pods_per_node\"" \
    --param '.allocatable.cpu="64"' --param '.allocatable.memory="256Gi"' \
    --param '.nodeIPs=["127.0.0.1"]'
  node_up
  echo "local cluster $name is up with $nodes nodes; kubeconfig: $kubeconfig" >&2
  echo "$kubeconfig"
  ;;
down)
  bin=$(build_bin)
  if [ "$name" = kdrill ]; then "$here/node.sh" down "$bin" "$kubeconfig" || true; fi
  kwokctl delete cluster >&2 2>/dev/null || true
  # A component restarted by stop-apiserver, or slow to stop, goes too.
  pkill -KILL -f "^$KWOK_WORKDIR/clusters/$name/bin/" 2>/dev/null || true
  rm -f "$kubeconfig"
  echo "local cluster $name is down" >&2
  ;;
status)
  bin=$(build_bin)
  write_config
  if ! running; then echo "stopped"; exit 1; fi
  # kdrill's cluster is whole with its real node, where there can be one.
  if [ "$name" = kdrill ] && "$here/node.sh" can >/dev/null && ! "$here/node.sh" status >/dev/null; then
    echo "running without its real node"; exit 1
  fi
  echo "running"
  ;;
kubeconfig)
  echo "$kubeconfig"
  ;;
stop-apiserver|stop-etcd)
  # Stops the kube-apiserver (or etcd) for SECONDS, as a crash would, then
  # starts it again with the same command line and working directory, and
  # waits until the API server is ready: an outage for the fault tests, the
  # rest of the control plane left running.
  seconds=${2:?usage: $0 $1 SECONDS}
  component=kube-apiserver
  if [ "$1" = stop-etcd ]; then component=etcd; fi
  bin=$(build_bin)
  dir="$KWOK_WORKDIR/clusters/$name"
  pid=$(cat "$dir/pids/$component.pid" 2>/dev/null || true)
  if [ -z "$pid" ] || [ ! -r "/proc/$pid/cmdline" ]; then
    echo "no $component of $name runs (pid file $dir/pids/$component.pid)" >&2
    exit 1
  fi
  hold=$(holdport_bin)
  mapfile -d '' args < "/proc/$pid/cmdline"
  workdir=$(readlink "/proc/$pid/cwd")
  # The port it serves on, held while it is down so that nothing else on
  # the machine (another local cluster) takes it meanwhile.
  port=""
  for a in "${args[@]}"; do
    case "$a" in
    --secure-port=*) port=${a#--secure-port=} ;;
    --listen-client-urls=*) port=${a##*:} ;;
    esac
  done
  kill -KILL "$pid" # as a crash would: connections reset at once
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  echo "$component stopped for ${seconds}s" >&2
  if [ -n "$port" ]; then
    "$hold" ":$port" "$seconds" || sleep "$seconds"
  else
    sleep "$seconds"
  fi
  (cd "$workdir" && exec setsid "${args[@]}" >>"$dir/logs/$component.log" 2>&1 </dev/null) &
  for _ in $(seq 600); do
    if running; then break; fi
    sleep 0.1
  done
  pgrep -n -f "^${args[0]} " > "$dir/pids/$component.pid"
  running || { echo "$component did not come back" >&2; exit 1; }
  echo "$component is back" >&2
  ;;
*)
  echo "usage: $0 up|down|status|build|kubeconfig|stop-apiserver SECONDS|stop-etcd SECONDS" >&2
  exit 2
  ;;
esac
