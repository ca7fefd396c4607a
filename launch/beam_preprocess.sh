#!/usr/bin/env bash
# Data preparation and ranking at scale: `personalize prepare` (on this machine) then `personalize rank` on a Beam
# runner: Dataflow, Flink or Spark (or DirectRunner, to try the same command locally).
#
# usage: launch/beam_preprocess.sh --runner RUNNER --prepared_dir DIR --output_dir DIR \
#            (--dataset NAME | --format FORMAT --input PATH [--input PATH ...] | --skip_prepare) [--prepare_arg ARG ...] \
#            [--strategies A,B] [--encoder minilm|gtr] [--encoder_path DIR] [--rank_arg ARG ...] [--beam_arg ARG ...] \
#            [--gin_file F ...] [--gin.NAME=VALUE ...] RUNNER OPTIONS [--dry-run]
# RUNNER OPTIONS
#   DataflowRunner: --project P --region R --temp_location gs://B/tmp [--staging_location gs://B/staging]
#                   [--num_workers N] [--max_num_workers N] [--sdk_container_image IMAGE] [--local_prepared_dir DIR]
#                   --prepared_dir and --output_dir must be gs:// paths. `prepare` writes to --local_prepared_dir
#                   (default $TMPDIR/personalize-prepared), which is then copied to --prepared_dir with
#                   `gcloud storage rsync`; the project is built as a wheel and shipped to the workers
#                   (--extra_package), which install its pinned dependencies; the staging location defaults to
#                   TEMP_LOCATION/staging.
#   FlinkRunner:    --flink_master HOST:PORT [--environment_type LOOPBACK]
#   SparkRunner:    --spark_master_url spark://HOST:7077 | --job_endpoint HOST:PORT (a running Beam Spark job server)
#                   [--environment_type LOOPBACK]
#                   With LOOPBACK (the default) the Beam workers run inside the submitting process, so local paths
#                   work; with DOCKER or PROCESS workers the directories must be visible to the cluster.
#   DirectRunner:   nothing more.
# `personalize` is $PERSONALIZE when set, else the repository's .venv/bin/personalize, else the one on PATH.
# --dry-run prints every command and runs nothing.
set -euo pipefail
SCRIPT=beam_preprocess.sh
DRY_RUN=0
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

runner="" prepared_dir="" output_dir="" dataset="" format="" skip_prepare=0
strategies="" encoder="" encoder_path=""
project="" region="" temp_location="" staging_location="" num_workers="" max_num_workers="" container_image=""
local_prepared_dir="${TMPDIR:-/tmp}/personalize-prepared"
flink_master="" spark_master_url="" job_endpoint="" environment_type=LOOPBACK
inputs=() prepare_args=() rank_args=() beam_args=() gin_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runner) need_value "$1" $#; runner=$2; shift ;;
    --prepared_dir) need_value "$1" $#; prepared_dir=$2; shift ;;
    --output_dir) need_value "$1" $#; output_dir=$2; shift ;;
    --dataset) need_value "$1" $#; dataset=$2; shift ;;
    --format) need_value "$1" $#; format=$2; shift ;;
    --input) need_value "$1" $#; inputs+=("$2"); shift ;;
    --prepare_arg) need_value "$1" $#; prepare_args+=("$2"); shift ;;
    --strategies) need_value "$1" $#; strategies=$2; shift ;;
    --encoder) need_value "$1" $#; encoder=$2; shift ;;
    --encoder_path) need_value "$1" $#; encoder_path=$2; shift ;;
    --rank_arg) need_value "$1" $#; rank_args+=("$2"); shift ;;
    --beam_arg) need_value "$1" $#; beam_args+=("$2"); shift ;;
    --gin_file) need_value "$1" $#; gin_args+=("--gin_file=$2"); shift ;;
    --project) need_value "$1" $#; project=$2; shift ;;
    --region) need_value "$1" $#; region=$2; shift ;;
    --temp_location) need_value "$1" $#; temp_location=$2; shift ;;
    --staging_location) need_value "$1" $#; staging_location=$2; shift ;;
    --num_workers) need_value "$1" $#; num_workers=$2; shift ;;
    --max_num_workers) need_value "$1" $#; max_num_workers=$2; shift ;;
    --sdk_container_image) need_value "$1" $#; container_image=$2; shift ;;
    --local_prepared_dir) need_value "$1" $#; local_prepared_dir=$2; shift ;;
    --flink_master) need_value "$1" $#; flink_master=$2; shift ;;
    --spark_master_url) need_value "$1" $#; spark_master_url=$2; shift ;;
    --job_endpoint) need_value "$1" $#; job_endpoint=$2; shift ;;
    --environment_type) need_value "$1" $#; environment_type=$2; shift ;;
    --*=*)
      case "${1%%=*}" in
        --gin.*) gin_args+=("$1") ;;
        *) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
      esac ;;
    --gin.*) die "gin override $1 must look like --gin.NAME=VALUE" ;;
    --skip_prepare) skip_prepare=1 ;;
    --dry-run|--dry_run) DRY_RUN=1 ;;
    -h|--help) print_help "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

require --runner "$runner"
case "$runner" in
  DataflowRunner|FlinkRunner|SparkRunner|DirectRunner) ;;
  *) die "--runner must be DataflowRunner, FlinkRunner, SparkRunner or DirectRunner, got $runner" ;;
esac
require --prepared_dir "$prepared_dir"
require --output_dir "$output_dir"
if [ "$skip_prepare" = 1 ]; then
  [ -z "$dataset$format" ] && [ ${#inputs[@]} = 0 ] && [ ${#prepare_args[@]} = 0 ] \
    || die "--skip_prepare takes no preparation flags (--dataset, --format, --input, --prepare_arg)"
else
  [ -n "$dataset" ] || [ -n "$format" ] \
    || die "missing required flag --dataset or --format (what to prepare), or --skip_prepare to rank an existing one"
  [ -n "$dataset" ] || [ ${#inputs[@]} -gt 0 ] || die "--format needs --input (the corpus files or folders)"
fi
runner_flags() {  # fails on options given for another runner
  local flag value
  for flag in "$@"; do
    case "$flag" in
      --project) value=$project ;; --region) value=$region ;; --temp_location) value=$temp_location ;;
      --staging_location) value=$staging_location ;; --num_workers) value=$num_workers ;;
      --max_num_workers) value=$max_num_workers ;; --sdk_container_image) value=$container_image ;;
      --flink_master) value=$flink_master ;; --spark_master_url) value=$spark_master_url ;;
      --job_endpoint) value=$job_endpoint ;;
    esac
    [ -z "$value" ] || die "$flag is not an option of $runner"
  done
}

rank_runner=()
upload_from=""
case "$runner" in
  DataflowRunner)
    require --project "$project"
    require --region "$region"
    require --temp_location "$temp_location"
    runner_flags --flink_master --spark_master_url --job_endpoint
    staging_location=${staging_location:-${temp_location%/}/staging}
    for flag in temp_location staging_location prepared_dir output_dir; do
      [[ "${!flag}" == gs://?* ]] || die "--$flag must be a gs:// path for DataflowRunner, got ${!flag}"
    done
    rank_runner=(--runner=DataflowRunner --project="$project" --region="$region" --temp_location="$temp_location")
    [ -z "$num_workers" ] || rank_runner+=(--num_workers="$num_workers")
    [ -z "$max_num_workers" ] || rank_runner+=(--max_num_workers="$max_num_workers")
    rank_runner+=(--beam_arg=--staging_location="$staging_location")
    [ -z "$container_image" ] || rank_runner+=(--beam_arg=--sdk_container_image="$container_image")
    [ "$skip_prepare" = 1 ] || upload_from=$local_prepared_dir
    ;;
  FlinkRunner)
    require --flink_master "$flink_master"
    runner_flags --project --region --temp_location --staging_location --num_workers --max_num_workers \
      --sdk_container_image --spark_master_url --job_endpoint
    rank_runner=(--runner=FlinkRunner --beam_arg=--flink_master="$flink_master"
                 --beam_arg=--environment_type="$environment_type")
    ;;
  SparkRunner)
    runner_flags --project --region --temp_location --staging_location --num_workers --max_num_workers \
      --sdk_container_image --flink_master
    [ -n "$spark_master_url" ] || [ -n "$job_endpoint" ] \
      || die "SparkRunner needs --spark_master_url spark://HOST:7077 or --job_endpoint HOST:PORT"
    [ -z "$spark_master_url" ] || [ -z "$job_endpoint" ] || die "give --spark_master_url or --job_endpoint, not both"
    if [ -n "$spark_master_url" ]; then
      rank_runner=(--runner=SparkRunner --beam_arg=--spark_master_url="$spark_master_url")
    else  # a Beam job server already running for the Spark cluster: the portable runner talks to it
      rank_runner=(--runner=PortableRunner --beam_arg=--job_endpoint="$job_endpoint")
    fi
    rank_runner+=(--beam_arg=--environment_type="$environment_type")
    ;;
  DirectRunner)
    runner_flags --project --region --temp_location --staging_location --num_workers --max_num_workers \
      --sdk_container_image --flink_master --spark_master_url --job_endpoint
    rank_runner=(--runner=DirectRunner)
    ;;
esac

if [ -n "${PERSONALIZE:-}" ]; then
  personalize=$PERSONALIZE
elif [ -x "$REPO/.venv/bin/personalize" ]; then
  personalize=$REPO/.venv/bin/personalize
else
  personalize=personalize
fi
if [ "$DRY_RUN" = 0 ]; then
  command -v "$personalize" >/dev/null || die "$personalize not found: install the project (bash run.sh) or set PERSONALIZE"
  if [ -n "$upload_from" ]; then
    command -v gcloud >/dev/null || die "gcloud not found: needed to copy the prepared dataset to $prepared_dir"
  fi
fi

if [ "$skip_prepare" = 0 ]; then
  prepare=("$personalize" prepare --output_dir "${upload_from:-$prepared_dir}")
  [ -z "$dataset" ] || prepare+=(--dataset "$dataset")
  [ -z "$format" ] || prepare+=(--format "$format")
  for path in "${inputs[@]}"; do
    prepare+=(--input "$path")
  done
  run "${prepare[@]}" "${prepare_args[@]}"
fi
if [ -n "$upload_from" ]; then
  run gcloud storage rsync --recursive "$upload_from" "$prepared_dir"
fi
if [ "$runner" = DataflowRunner ]; then
  python=${PYTHON:-$REPO/.venv/bin/python}
  [ -x "$python" ] || [ "$DRY_RUN" = 1 ] || python=python3
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$REPO/pyproject.toml")
  [ -n "$version" ] || die "cannot read the project version from $REPO/pyproject.toml"
  dist=${TMPDIR:-/tmp}/personalize-dist
  run "$python" -m pip wheel --quiet --no-deps --wheel-dir "$dist" "$REPO"
  rank_runner+=(--beam_arg=--extra_package="$dist/personalize-$version-py3-none-any.whl")
fi
rank=("$personalize" rank --prepared_dir="$prepared_dir" --output_dir="$output_dir")
[ -z "$strategies" ] || rank+=(--strategies="$strategies")
[ -z "$encoder" ] || rank+=(--encoder="$encoder")
[ -z "$encoder_path" ] || rank+=(--encoder_path="$encoder_path")
for arg in "${beam_args[@]}"; do
  rank_runner+=(--beam_arg="$arg")
done
run "${rank[@]}" "${rank_args[@]}" "${rank_runner[@]}" "${gin_args[@]}"
