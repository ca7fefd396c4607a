#!/usr/bin/env bash
# Run `personalize train` as one JAX process per host on a multi-host GPU cluster, under SLURM or over plain SSH.
#
# usage: launch/gpu_cluster.sh --mode slurm --nodes N [--gpus_per_node G] [--partition P] [--time HH:MM:SS] \
#            [--srun_arg ARG ...]  COMMON
#        launch/gpu_cluster.sh --mode ssh (--hosts h1,h2,... | --hostfile FILE) [--coordinator HOST]  COMMON
# COMMON: --model_dir DIR --gin_file F [--gin_file F ...] [--gin.NAME=VALUE ...] [--workdir DIR] [--venv DIR]
#         [--port 12345] [--env KEY=VALUE ...] [--dry-run]
#
# Every process gets the three variables personalize/partitioning/distributed.py reads: JAX_COORDINATOR_ADDRESS
# (the first host, port --port), JAX_NUM_PROCESSES (one per host) and JAX_PROCESS_ID (0 on the first host). Each
# process drives all GPUs of its host.
#   slurm: one srun over N nodes, one task per node; each task computes the variables from SLURM_JOB_NODELIST,
#          SLURM_NTASKS and SLURM_PROCID. Run it inside an allocation (sbatch / salloc) or let srun allocate.
#   ssh:   one `ssh HOST ...` per host, started together; output is prefixed with the host; the first failure
#          stops the other ssh sessions.
# The project must already be installed on every host at --workdir (default: this checkout, i.e. a shared file
# system) with its venv at --venv (default: .venv under --workdir, as run.sh makes it). MODEL_DIR must be shared by
# all hosts (a shared file system or gs://): each process writes its checkpoint shards there.
# --dry-run prints the srun command, or one ssh command per host, and runs nothing.
set -euo pipefail
SCRIPT=gpu_cluster.sh
DRY_RUN=0
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode="" nodes="" gpus_per_node="" partition="" time_limit="" hosts_csv="" hostfile="" coordinator=""
model_dir="" workdir=$REPO venv=.venv port=12345
gin_files=() gin_bindings=() envs=() srun_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) need_value "$1" $#; mode=$2; shift ;;
    --nodes) need_value "$1" $#; nodes=$2; shift ;;
    --gpus_per_node) need_value "$1" $#; gpus_per_node=$2; shift ;;
    --partition) need_value "$1" $#; partition=$2; shift ;;
    --time) need_value "$1" $#; time_limit=$2; shift ;;
    --srun_arg) need_value "$1" $#; srun_args+=("$2"); shift ;;
    --hosts) need_value "$1" $#; hosts_csv=$2; shift ;;
    --hostfile) need_value "$1" $#; hostfile=$2; shift ;;
    --coordinator) need_value "$1" $#; coordinator=$2; shift ;;
    --model_dir) need_value "$1" $#; model_dir=$2; shift ;;
    --gin_file) need_value "$1" $#; gin_files+=("$2"); shift ;;
    --workdir) need_value "$1" $#; workdir=$2; shift ;;
    --venv) need_value "$1" $#; venv=$2; shift ;;
    --port) need_value "$1" $#; port=$2; shift ;;
    --env) need_value "$1" $#; [[ "$2" == [A-Za-z_]*=* ]] || die "--env takes KEY=VALUE, got $2"; envs+=("$2"); shift ;;
    --mode=*|--nodes=*|--gpus_per_node=*|--partition=*|--time=*|--srun_arg=*|--hosts=*|--hostfile=*|--coordinator=*\
    |--model_dir=*|--gin_file=*|--workdir=*|--venv=*|--port=*|--env=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
    --gin.*=*) gin_bindings+=("$1") ;;
    --gin.*) die "gin override $1 must look like --gin.NAME=VALUE" ;;
    --dry-run|--dry_run) DRY_RUN=1 ;;
    -h|--help) print_help "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

require --mode "$mode"
require --model_dir "$model_dir"
[ ${#gin_files[@]} -gt 0 ] || die "missing required flag --gin_file (the model, run and partitioning gin files)"
[[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number, got $port"
for binding in "${gin_bindings[@]}"; do
  [[ "$binding" != --gin.MODEL_DIR=* ]] || die "give the model directory as --model_dir, not $binding"
done
remote_gins=()
for name in "${gin_files[@]}"; do
  remote_gins+=("$(remote_gin_path "$name")")
done

# The training command every process runs from the workdir, after its JAX_* variables are set.
train_words=("$venv/bin/personalize" train)
for name in "${remote_gins[@]}"; do
  train_words+=("--gin_file=$name")
done
train_words+=("--gin.MODEL_DIR=\"$model_dir\"" "${gin_bindings[@]}")
extra_env=""
for pair in "${envs[@]}"; do
  extra_env+=" $(quote_word "$pair")"
done

case "$mode" in
  slurm)
    require --nodes "$nodes"
    [[ "$nodes" =~ ^[1-9][0-9]*$ ]] || die "--nodes must be a positive number, got $nodes"
    [ -z "$hosts_csv$hostfile$coordinator" ] || die "--hosts, --hostfile and --coordinator are for --mode ssh"
    if [ "$DRY_RUN" = 0 ]; then
      command -v srun >/dev/null || die "srun not found: run on a SLURM login node (or use --dry-run)"
    fi
    task="cd $(quote_word "$workdir")"
    task+=" && export JAX_COORDINATOR_ADDRESS=\"\$(scontrol show hostnames \"\$SLURM_JOB_NODELIST\" | head -n 1):$port\""
    task+=" JAX_NUM_PROCESSES=\"\$SLURM_NTASKS\" JAX_PROCESS_ID=\"\$SLURM_PROCID\""
    task+=" && exec env TF_CPP_MIN_LOG_LEVEL=2$extra_env $(quote_command "${train_words[@]}")"
    srun_words=(srun --nodes="$nodes" --ntasks-per-node=1)
    [ -z "$gpus_per_node" ] || srun_words+=(--gpus-per-node="$gpus_per_node")
    [ -z "$partition" ] || srun_words+=(--partition="$partition")
    [ -z "$time_limit" ] || srun_words+=(--time="$time_limit")
    run "${srun_words[@]}" "${srun_args[@]}" bash -c "$task"
    ;;
  ssh)
    [ -z "$nodes$gpus_per_node$partition$time_limit" ] && [ ${#srun_args[@]} = 0 ] \
      || die "--nodes, --gpus_per_node, --partition, --time and --srun_arg are for --mode slurm"
    [ -z "$hosts_csv" ] || [ -z "$hostfile" ] || die "give --hosts or --hostfile, not both"
    hosts=()
    if [ -n "$hosts_csv" ]; then
      IFS=, read -r -a hosts <<< "$hosts_csv"
    elif [ -n "$hostfile" ]; then
      [ -f "$hostfile" ] || die "--hostfile $hostfile not found"
      while read -r line; do
        line=${line%%#*}
        [ -z "${line// /}" ] || hosts+=("${line// /}")
      done < "$hostfile"
    else
      die "missing required flag --hosts or --hostfile for --mode ssh"
    fi
    [ ${#hosts[@]} -gt 0 ] || die "no hosts given"
    for host in "${hosts[@]}"; do
      [ -n "$host" ] || die "empty host name in --hosts $hosts_csv"
    done
    if [ "$DRY_RUN" = 0 ]; then
      command -v ssh >/dev/null || die "ssh not found (or use --dry-run)"
    fi
    coordinator=${coordinator:-${hosts[0]#*@}}
    commands=()
    for index in "${!hosts[@]}"; do
      remote="cd $(quote_word "$workdir") && exec env JAX_COORDINATOR_ADDRESS=$(quote_word "$coordinator:$port")"
      remote+=" JAX_NUM_PROCESSES=${#hosts[@]} JAX_PROCESS_ID=$index TF_CPP_MIN_LOG_LEVEL=2$extra_env"
      remote+=" $(quote_command "${train_words[@]}")"
      commands+=("$remote")
    done
    if [ "$DRY_RUN" = 1 ]; then
      for index in "${!hosts[@]}"; do
        run ssh -o BatchMode=yes "${hosts[$index]}" "${commands[$index]}"
      done
      exit 0
    fi
    pids=()
    for index in "${!hosts[@]}"; do
      host=${hosts[$index]}
      echo "+ $(quote_command ssh -o BatchMode=yes "$host" "${commands[$index]}")" >&2
      ssh -o BatchMode=yes "$host" "${commands[$index]}" > >(sed -u "s|^|[$host] |") 2>&1 &
      pids+=($!)
    done
    status=0
    for _ in "${pids[@]}"; do
      if ! wait -n; then
        status=1
        echo "$SCRIPT: a host failed; stopping the other ssh sessions" >&2
        for pid in "${pids[@]}"; do
          kill "$pid" 2>/dev/null || true
        done
        break
      fi
    done
    wait || true
    exit "$status"
    ;;
  *) die "--mode must be slurm or ssh, got $mode" ;;
esac
