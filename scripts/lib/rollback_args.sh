# Shared by scripts/rollback.sh and scripts/rollback-kubectl.sh (sourced, not run): the one
# argument both take, an image tag. The sourcing script sets PROG and defines usage().

# Prints a usage error and exits 2.
fail_usage() {
  echo "$PROG: $1" >&2
  echo "Usage: $PROG [-h|--help] TAG   (--help for more)" >&2
  exit 2
}

# Reads the arguments: --help prints usage() and exits 0; otherwise exactly one valid image tag,
# set as TAG (Docker tag grammar: 1-128 of [A-Za-z0-9_.-], not starting with . or -).
read_tag_argument() {
  case ${1:-} in
    -h | --help) usage; exit 0 ;;
    '') fail_usage "missing TAG" ;;
  esac
  [ $# -eq 1 ] || fail_usage "expected exactly one TAG"
  TAG=$1
  [[ $TAG =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || fail_usage "not a valid image tag: $TAG"
}
