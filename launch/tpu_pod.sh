#!/usr/bin/env bash
# Run `personalize train` on every worker of a Cloud TPU VM pod slice.
#
# usage: launch/tpu_pod.sh --tpu NAME --topology v4-128 --zone ZONE --project PROJECT --model_dir gs://BUCKET/DIR \
#            --gin_file MODEL.gin --gin_file runs/finetune.gin --gin_file partitioning/tpu_v4_256_xxl.gin \
#            [--gin.NAME=VALUE ...] [--git_url URL [--git_ref REF] | (default) this working tree as a tarball] \
#            [--skip_install] [--skip_compile_check] [--python python3.11] [--env KEY=VALUE ...] [--detach] [--dry-run]
#
# Steps:
#   0. compile check, here, before anything reaches the pod: `personalize compile --topology=SLICE` with the same
#      gin files compiles the train step for the slice (--topology: its accelerator type, v4-128, v5e-256, ...) and
#      stops the launch when it would not fit in the chips' HBM. Needs the `tpu` extra here (pip install -e
#      '.[tpu]'); $PERSONALIZE names another `personalize` than .venv/bin/personalize. --skip_compile_check skips it.
# Then, each one `gcloud compute tpus tpu-vm ...` over all workers (--worker=all), in parallel:
#   1. install: copy this working tree (tracked and untracked, not ignored files) as a tarball to every worker, or
#      clone --git_url there, into ~/personalize; a venv ~/personalize-venv (kept between runs) gets the project
#      and jax[tpu] at the version pyproject.toml pins. --skip_install reuses what is there.
#   2. train: the same `personalize train --gin_file=... --gin.MODEL_DIR="..." --gin.X=Y` on every worker. On Cloud
#      TPU, JAX finds the coordinator, process count and process id itself, so no JAX_* variable is set.
# --detach leaves training running under nohup (output in ~/personalize-train.log on each worker) instead of
# streaming it through ssh. --dry-run prints every command and runs nothing (no gcloud needed).
# The workers need Python 3.11: python3.11 is installed with apt when missing (Ubuntu 22.04 images), or --python names
# another 3.11 interpreter. MODEL_DIR must be on GCS: every worker
# writes its shards of the checkpoints there.
set -euo pipefail
SCRIPT=tpu_pod.sh
DRY_RUN=0
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

tpu="" topology="" skip_compile_check=0 zone="" project="" model_dir="" git_url="" git_ref="" python=python3.11 skip_install=0 detach=0
gin_files=() gin_bindings=() envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tpu) need_value "$1" $#; tpu=$2; shift ;;
    --topology) need_value "$1" $#; topology=$2; shift ;;
    --zone) need_value "$1" $#; zone=$2; shift ;;
    --project) need_value "$1" $#; project=$2; shift ;;
    --model_dir) need_value "$1" $#; model_dir=$2; shift ;;
    --gin_file) need_value "$1" $#; gin_files+=("$2"); shift ;;
    --git_url) need_value "$1" $#; git_url=$2; shift ;;
    --git_ref) need_value "$1" $#; git_ref=$2; shift ;;
    --python) need_value "$1" $#; python=$2; shift ;;
    --env) need_value "$1" $#; [[ "$2" == [A-Za-z_]*=* ]] || die "--env takes KEY=VALUE, got $2"; envs+=("$2"); shift ;;
    --tpu=*|--topology=*|--zone=*|--project=*|--model_dir=*|--gin_file=*|--git_url=*|--git_ref=*|--python=*|--env=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
    --gin.*=*) gin_bindings+=("$1") ;;
    --gin.*) die "gin override $1 must look like --gin.NAME=VALUE" ;;
    --skip_install) skip_install=1 ;;
    --skip_compile_check) skip_compile_check=1 ;;
    --detach) detach=1 ;;
    --dry-run|--dry_run) DRY_RUN=1 ;;
    -h|--help) print_help "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

require --tpu "$tpu"
[ "$skip_compile_check" = 1 ] || [ -n "$topology" ] \
  || die "missing required flag --topology (the slice's accelerator type, e.g. v4-128, for the compile check; or --skip_compile_check)"
require --zone "$zone"
require --project "$project"
require --model_dir "$model_dir"
[ ${#gin_files[@]} -gt 0 ] || die "missing required flag --gin_file (the model, run and partitioning gin files)"
[[ "$model_dir" == gs://?* ]] \
  || die "--model_dir must be a gs:// path on a pod (every worker writes checkpoint shards there), got $model_dir"
[ -z "$git_ref" ] || [ -n "$git_url" ] || die "--git_ref needs --git_url"
[ "$skip_install" = 0 ] || [ -z "$git_url" ] || die "--skip_install and --git_url contradict each other"
for binding in "${gin_bindings[@]}"; do
  [[ "$binding" != --gin.MODEL_DIR=* ]] || die "give the model directory as --model_dir, not $binding"
done
remote_gins=()
for name in "${gin_files[@]}"; do
  remote_gins+=("$(remote_gin_path "$name")")
done
if [ "$DRY_RUN" = 0 ]; then
  command -v gcloud >/dev/null || die "gcloud not found: install the Google Cloud CLI (or use --dry-run)"
fi

if [ "$skip_compile_check" = 0 ]; then
  personalize=${PERSONALIZE:-$REPO/.venv/bin/personalize}
  check=("$personalize" compile "--topology=$topology")
  for name in "${remote_gins[@]}"; do
    check+=("--gin_file=$name")
  done
  check+=("${gin_bindings[@]}")
  status=0
  (cd "$REPO" && run "${check[@]}") || status=$?
  [ "$status" != 1 ] || die "the job does not fit on $topology (see personalize compile above); nothing was sent to the pod (change the partitioning gin, or --skip_compile_check)"
  [ "$status" = 0 ] || die "the compile check failed (exit $status); nothing was sent to the pod (--skip_compile_check skips it)"
fi

gcloud_tpu=(compute tpus tpu-vm)
where=(--zone="$zone" --project="$project" --worker=all)
remote_venv='~/personalize-venv'

if [ "$skip_install" = 0 ]; then
  if [ -n "$git_url" ]; then
    fetch="rm -rf ~/personalize && git clone --quiet $(quote_word "$git_url") ~/personalize"
    [ -z "$git_ref" ] || fetch+=" && git -C ~/personalize checkout --quiet $(quote_word "$git_ref")"
  else
    tarball=${TMPDIR:-/tmp}/personalize-$tpu.tar.gz
    if [ "$DRY_RUN" = 1 ]; then
      echo "git -C $(quote_word "$REPO") ls-files -z --cached --others --exclude-standard" \
        "| tar --create --gzip --file=$(quote_word "$tarball") --directory=$(quote_word "$REPO") --null --files-from=-"
    else
      echo "+ packing $REPO into $tarball" >&2
      git -C "$REPO" ls-files -z --cached --others --exclude-standard \
        | (cd "$REPO" && while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done) \
        | tar --create --gzip --file="$tarball" --directory="$REPO" --null --files-from=-
    fi
    run gcloud "${gcloud_tpu[@]}" scp "$tarball" "$tpu:personalize.tar.gz" "${where[@]}"
    fetch="rm -rf ~/personalize && mkdir -p ~/personalize && tar -xzf ~/personalize.tar.gz -C ~/personalize"
  fi
  jax_version=$(pinned_version jax)
  [ -n "$jax_version" ] || die "cannot read the jax pin from $REPO/pyproject.toml"
  install="set -euo pipefail"
  if [ "$python" = python3.11 ]; then  # Ubuntu 22.04 TPU images ship 3.10; 3.11 is in its universe archive
    install+="; command -v python3.11 >/dev/null || { sudo apt-get update -qq && sudo apt-get install -y -qq python3.11 python3.11-venv; }"
  fi
  install+="; command -v $(quote_word "$python") >/dev/null"
  install+=" || { echo \"$(quote_word "$python") is missing on \$(hostname): the project needs Python 3.11\" >&2; exit 1; }"
  install+="; $fetch"
  install+="; [ -x $remote_venv/bin/python ] || $(quote_word "$python") -m venv $remote_venv"
  install+="; $remote_venv/bin/pip install --quiet --upgrade pip"
  install+="; $remote_venv/bin/pip install --quiet -e ~/personalize 'jax[tpu]==$jax_version'"
  run gcloud "${gcloud_tpu[@]}" ssh "$tpu" "${where[@]}" --command="$install"
fi

train_words=(train)
for name in "${remote_gins[@]}"; do
  train_words+=("--gin_file=$name")
done
train_words+=("--gin.MODEL_DIR=\"$model_dir\"" "${gin_bindings[@]}")
train="cd ~/personalize && env TF_CPP_MIN_LOG_LEVEL=2"
for pair in "${envs[@]}"; do
  train+=" $(quote_word "$pair")"
done
train+=" $remote_venv/bin/personalize $(quote_command "${train_words[@]}")"
if [ "$detach" = 1 ]; then
  train="nohup bash -c $(quote_word "$train") > ~/personalize-train.log 2>&1 < /dev/null &"
fi
run gcloud "${gcloud_tpu[@]}" ssh "$tpu" "${where[@]}" --command="$train"
if [ "$detach" = 1 ]; then
  echo "$SCRIPT: training runs detached; follow it with:" \
    "gcloud compute tpus tpu-vm ssh $tpu --zone=$zone --project=$project --worker=0 --command='tail -f ~/personalize-train.log'" >&2
fi
