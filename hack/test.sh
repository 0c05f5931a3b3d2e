#!/usr/bin/env bash
# Runs kdrill's unit and end-to-end tests. The end-to-end tests need the
# local cluster (and a second, smaller one for the two-cluster tests): each is
# started if it is not running, and stopped afterwards only if this script
# started it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cluster=hack/localcluster/cluster.sh
started=0
second=0
stop() {
  if [ "$second" = 1 ]; then KDRILL_CLUSTER_NAME=kdrill2 "$cluster" down >/dev/null 2>&1 || true; fi
  if [ "$started" = 1 ]; then "$cluster" down >/dev/null 2>&1 || true; fi
}
trap stop EXIT
# startedUp runs "cluster.sh up" and says whether it started a cluster:
# one that was running already (a status check can miss a busy API server)
# belongs to whoever started it, and is left running.
startedUp() {
  local msg
  msg=$("$cluster" up 2>&1 >/dev/null) || { echo "$msg" >&2; exit 1; }
  echo "$msg" >&2
  case "$msg" in *"is up with"*) return 0 ;; esac
  return 1
}
if ! "$cluster" status >/dev/null 2>&1; then
  if startedUp; then started=1; fi
fi
# A second, smaller cluster for the two-cluster tests (a failover drill
# applies on one cluster and asserts on the other).
if ! KDRILL_CLUSTER_NAME=kdrill2 "$cluster" status >/dev/null 2>&1; then
  if KDRILL_CLUSTER_NAME=kdrill2 KDRILL_CLUSTER_NODES=2 startedUp; then second=1; fi
fi

# The real node (containers, not kwok's simulation) runs where the machine
# allows it; there its tests must run, elsewhere they are skipped by name.
if why=$(hack/localcluster/node.sh can); then
  export KDRILL_E2E_REAL_NODE=required
else
  echo "no real node on this machine ($why): the tests that need real containers are skipped" >&2
fi
export KDRILL_E2E_KUBECONFIG KDRILL_E2E_KUBECONFIG2
KDRILL_E2E_KUBECONFIG=$("$cluster" kubeconfig)
KDRILL_E2E_KUBECONFIG2=$(KDRILL_CLUSTER_NAME=kdrill2 "$cluster" kubeconfig)
go vet ./...
# -p 1: the end-to-end packages share one cluster; run them one at a time.
go test -count=1 -p 1 -timeout 30m "$@" ./...

# Fuzz the scenario loader and the expression compiler briefly; a crasher
# is saved under the package's testdata/fuzz and fails the run. Budgets are
# counts of inputs (about 10 s each here), not durations: Go 1.26's fuzzing
# coordinator can report its own -fuzztime deadline as a failure
# (go.dev/issue/75804). Minimizing a new input is bounded too, or it takes
# the whole budget.
fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "$2" -fuzzminimizetime 100x "$3"; }
fuzz FuzzParse 20000x ./scenario/
fuzz FuzzScenarioWithManifests 8000x ./scenario/
fuzz FuzzIncludeMatrixKustomize 4000x ./scenario/
fuzz FuzzExprCompile 150000x ./expression/

# Every benchmark once, so none rots unnoticed (make bench runs them at
# length and reports the figures). A benchmark that fails its own goal or
# cannot run fails the test run.
go test -run '^$' -bench . -benchtime 1x -timeout 40m ./bench/

# A cluster this script started goes, and its real node must leave
# nothing on the machine: no process, mount, interface, iptables chain,
# ipset or directory.
if [ "$started" = 1 ]; then
  "$cluster" down
  started=0
  hack/localcluster/node.sh leftovers
fi
