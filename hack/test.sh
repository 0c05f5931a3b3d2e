#!/usr/bin/env bash
# Runs kdrill's unit and end-to-end tests. The end-to-end tests need the
# local cluster: it is started if none is running, and stopped afterwards only
# if this script started it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cluster=hack/localcluster/cluster.sh
started=0
if ! "$cluster" status >/dev/null 2>&1; then
  "$cluster" up >/dev/null
  started=1
fi
stop() { if [ "$started" = 1 ]; then "$cluster" down >/dev/null 2>&1 || true; fi; }
trap stop EXIT

export KDRILL_E2E_KUBECONFIG
KDRILL_E2E_KUBECONFIG=$("$cluster" kubeconfig)
go vet ./...
# -p 1: the end-to-end packages share one cluster; run them one at a time.
go test -count=1 -p 1 -timeout 30m "$@" ./...

# Fuzz the scenario loader and the expression compiler briefly; a crasher
# is saved under runner/testdata/fuzz and fails the run.
for target in FuzzParse FuzzExprCompile FuzzScenarioWithManifests; do
  go test -run '^$' -fuzz "^${target}\$" -fuzztime 10s ./runner/
done
