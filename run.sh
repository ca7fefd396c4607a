#!/usr/bin/env bash
# The two set-up commands of the README:
#   bash run.sh demo   install into .venv, then run the main job on the embedded demo corpus
#   bash run.sh test   install into .venv, then run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "run.sh: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "run.sh: installing personalize and its pinned dependencies into .venv (a few minutes the first time)" >&2
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test,tpu]"  # tpu: libtpu, so the compile tests run
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# SynCtx's weak labels need the WordNet 3.0 database. Where the system has none (nor $PERSONALIZE_WORDNET_DIR),
# unpack Debian's wordnet-base into .venv/share/wordnet (apt-get download needs no root where package lists exist).
if [ -z "${PERSONALIZE_WORDNET_DIR:-}" ] && [ ! -f .venv/share/wordnet/data.noun ] && [ ! -f /usr/share/wordnet/data.noun ] \
   && [ ! -f "$HOME/nltk_data/corpora/wordnet/data.noun" ] && command -v apt-get >/dev/null; then
  echo "run.sh: no WordNet database found; unpacking Debian's wordnet-base into .venv/share/wordnet" >&2
  work=$(mktemp -d)
  if ! (cd "$work" && apt-get download wordnet-base >/dev/null 2>&1); then
    [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1
    (cd "$work" && apt-get download wordnet-base >/dev/null 2>&1) || true
  fi
  if ls "$work"/wordnet-base_*.deb >/dev/null 2>&1 && dpkg-deb -x "$work"/wordnet-base_*.deb "$work/root" \
     && [ -f "$work/root/usr/share/wordnet/data.noun" ]; then
    mkdir -p .venv/share && rm -rf .venv/share/wordnet && mv "$work/root/usr/share/wordnet" .venv/share/wordnet
  else
    echo "run.sh: could not fetch wordnet-base: SynCtx needs WordNet; set PERSONALIZE_WORDNET_DIR to a WordNet" \
         "3.0 folder (e.g. nltk_data/corpora/wordnet)" >&2
  fi
  rm -rf "$work"
fi

case "${1:-}" in
  demo)
    shift
    exec .venv/bin/personalize experiment --dataset demo --output_dir runs/demo --gin_file=experiments/cpu_demo.gin "$@"
    ;;
  test)
    shift
    exec .venv/bin/python -m pytest -q "$@"
    ;;
  *)
    echo "usage: bash run.sh demo|test [extra arguments]" >&2
    exit 2
    ;;
esac
