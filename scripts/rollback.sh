#!/usr/bin/env bash
# Rolls the bff release back (or forward) to an image tag with Helm: the Deployment and the
# sync CronJob get the same image, since both take it from the chart's image.tag.
set -euo pipefail

readonly PROG=${0##*/}
NAMESPACE=${NAMESPACE:-accounting}
RELEASE=${RELEASE:-bff}
CHART=${CHART:-charts/bff-accounting}
DEPLOYMENT=${DEPLOYMENT:-bff-accounting}
TIMEOUT=${TIMEOUT:-5m}

usage() {
  cat <<EOF
Usage: $PROG [-h|--help] TAG

Runs: helm upgrade --install $RELEASE $CHART --namespace $NAMESPACE --reuse-values --set image.tag=TAG --wait --timeout $TIMEOUT
then waits for deployment/$DEPLOYMENT to roll out and checks that it and the release's CronJobs
run the tag. Example (the deploy checklist): $PROG r7-final-20251203

Environment: NAMESPACE ($NAMESPACE), RELEASE ($RELEASE), CHART ($CHART), DEPLOYMENT ($DEPLOYMENT),
TIMEOUT ($TIMEOUT), DRY_RUN=1 (print the plan, change nothing).
Exit codes: 0 rolled out; 1 a step failed; 2 usage error or helm/kubectl missing.
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
for tool in helm kubectl; do
  command -v "$tool" >/dev/null 2>&1 || fail_usage "$tool is not on PATH"
done

helm_cmd=(helm upgrade --install "$RELEASE" "$CHART" --namespace "$NAMESPACE" --reuse-values
  --set "image.tag=$TAG" --wait --timeout "$TIMEOUT")
echo "plan:"
echo "  ${helm_cmd[*]}"
echo "  kubectl rollout status deployment/$DEPLOYMENT -n $NAMESPACE --timeout $TIMEOUT"
echo "  check deployment/$DEPLOYMENT and the CronJobs of release $RELEASE run tag $TAG"
if [ "${DRY_RUN:-0}" = "1" ]; then
  echo "DRY_RUN=1: nothing changed"
  exit 0
fi

"${helm_cmd[@]}" || { echo "$PROG: helm upgrade failed" >&2; exit 1; }
kubectl rollout status "deployment/$DEPLOYMENT" -n "$NAMESPACE" --timeout "$TIMEOUT" ||
  { echo "$PROG: rollout of deployment/$DEPLOYMENT did not finish" >&2; exit 1; }

images=$(kubectl get deployment "$DEPLOYMENT" -n "$NAMESPACE" -o jsonpath='{range .spec.template.spec.containers[*]}{.image}{"\n"}{end}')
images+=$'\n'$(kubectl get cronjob -n "$NAMESPACE" -l "app.kubernetes.io/instance=$RELEASE" \
  -o jsonpath='{range .items[*]}{range .spec.jobTemplate.spec.template.spec.containers[*]}{.image}{"\n"}{end}{end}')
wrong=$(printf '%s\n' "$images" | grep -v '^$' | grep -v ":$TAG\$" || true)
if [ -n "$wrong" ]; then
  echo "$PROG: not on $TAG: $wrong" >&2
  exit 1
fi
echo "rolled out: $RELEASE now runs $TAG (deployment and CronJobs)"
