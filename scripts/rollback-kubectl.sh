#!/usr/bin/env bash
# Rolls deployment/bff-accounting and the release's CronJobs to an image tag with kubectl only,
# for when Helm is not available. The next `helm upgrade` sets the image from the chart again:
# follow up with ./scripts/rollback.sh TAG (or pass --set image.tag=TAG) once Helm is back.
set -euo pipefail

readonly PROG=${0##*/}
NAMESPACE=${NAMESPACE:-accounting}
RELEASE=${RELEASE:-bff}
DEPLOYMENT=${DEPLOYMENT:-bff-accounting}
TIMEOUT=${TIMEOUT:-5m}

usage() {
  cat <<EOF
Usage: $PROG [-h|--help] TAG

Sets the image of deployment/$DEPLOYMENT (all containers) and of every CronJob labelled
app.kubernetes.io/instance=$RELEASE to <current repository>:TAG in namespace $NAMESPACE, then waits
for the rollout. Example: $PROG r7-final-20251203

Environment: NAMESPACE, RELEASE, DEPLOYMENT, TIMEOUT ($TIMEOUT), IMAGE_REPOSITORY (default: the
deployment's current repository), DRY_RUN=1 (print the plan, change nothing).
Exit codes: 0 rolled out; 1 a step failed; 2 usage error or kubectl missing.
EOF
}

# Next to this script, also when it is run through a symlink (resolved by readlink -f where
# it exists; macOS before 12.3 has none, and then the path is taken as it is).
self=${BASH_SOURCE[0]}
self=$(readlink -f "$self" 2>/dev/null || echo "$self")
# shellcheck source=lib/rollback_args.sh
source "$(dirname "$self")/lib/rollback_args.sh" ||
  { echo "$PROG: scripts/lib/rollback_args.sh is missing: run this script from the repository" >&2; exit 2; }
read_tag_argument "$@"
command -v kubectl >/dev/null 2>&1 || fail_usage "kubectl is not on PATH"

current=$(kubectl get deployment "$DEPLOYMENT" -n "$NAMESPACE" -o jsonpath='{.spec.template.spec.containers[0].image}') ||
  { echo "$PROG: cannot read deployment/$DEPLOYMENT in $NAMESPACE" >&2; exit 1; }
repository=${IMAGE_REPOSITORY:-${current%:*}}
image="$repository:$TAG"
cronjobs=$(kubectl get cronjob -n "$NAMESPACE" -l "app.kubernetes.io/instance=$RELEASE" -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')

echo "plan: $current -> $image"
echo "  kubectl set image deployment/$DEPLOYMENT *=$image -n $NAMESPACE"
for cronjob in $cronjobs; do echo "  kubectl set image cronjob/$cronjob *=$image -n $NAMESPACE"; done
echo "  kubectl rollout status deployment/$DEPLOYMENT -n $NAMESPACE --timeout $TIMEOUT"
if [ "${DRY_RUN:-0}" = "1" ]; then
  echo "DRY_RUN=1: nothing changed"
  exit 0
fi

kubectl set image "deployment/$DEPLOYMENT" "*=$image" -n "$NAMESPACE"
for cronjob in $cronjobs; do kubectl set image "cronjob/$cronjob" "*=$image" -n "$NAMESPACE"; done
kubectl rollout status "deployment/$DEPLOYMENT" -n "$NAMESPACE" --timeout "$TIMEOUT" ||
  { echo "$PROG: rollout of deployment/$DEPLOYMENT did not finish" >&2; exit 1; }
echo "rolled out: deployment/$DEPLOYMENT and the CronJobs (${cronjobs//$'\n'/ }) now run $image"
echo "note: Helm does not know; the next helm upgrade must set image.tag=$TAG (./scripts/rollback.sh $TAG)"
