# Shared by the launch scripts (sourced, never run): argument checks, shell quoting and dry-run printing.
# The sourcing script sets SCRIPT (its name, for messages) and DRY_RUN (0 or 1).

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
  echo "$SCRIPT: $*" >&2
  exit 2
}

# One word as the shell reads it back: bare when it is safe, else single-quoted.
quote_word() {
  if [[ -n "$1" && "$1" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf '%s' "${1@Q}"
  fi
}

# A command line that a shell would split back into exactly these words.
quote_command() {
  local word out=""
  for word in "$@"; do
    out+="${out:+ }$(quote_word "$word")"
  done
  printf '%s' "$out"
}

# Prints the command; runs it unless this is a dry run.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    quote_command "$@"
    echo
  else
    echo "+ $(quote_command "$@")" >&2
    "$@"
  fi
}

# `need_value FLAG "$#"`: the flag at hand must be followed by a value.
need_value() {
  [ "$2" -ge 2 ] || die "$1 needs a value"
}

require() {
  local flag=$1 value=$2
  [ -n "$value" ] || die "missing required flag $flag (see --help)"
}

# A gin file as the repository-rooted command on another machine must name it (the project's gin search path is
# the working directory, then gin/): a path under the repository becomes relative to its root; a name under gin/
# stays as given. Anything else would not exist on the workers.
remote_gin_path() {
  local name=$1 absolute
  if [ -f "$name" ]; then
    absolute=$(realpath "$name")
    [[ "$absolute" == "$REPO"/* ]] \
      || die "gin file $name is outside the repository $REPO: the workers only have the repository's files"
    printf '%s' "${absolute#"$REPO"/}"
  elif [ -f "$REPO/gin/$name" ]; then
    printf '%s' "$name"
  else
    die "gin file $name not found (looked in the working directory and $REPO/gin)"
  fi
}

# The version pinned in pyproject.toml for a package, e.g. `pinned_version jax`.
pinned_version() {
  sed -n "s/^ *\"$1==\\([^\"]*\\)\".*/\\1/p" "$REPO/pyproject.toml" | head -n 1
}

print_help() {
  sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$1"
}
