"""launch/beam_preprocess.sh: prepare + rank commands per runner, and the options each runner requires."""

import pytest

from launch_helpers import REPO, printed_commands, run_script, tool_dir

ENV = {"PERSONALIZE": "personalize", "PYTHON": "python3.11"}
DATAFLOW = ["--runner", "DataflowRunner", "--dataset", "demo", "--prepared_dir", "gs://b/prepared",
            "--output_dir", "gs://b/ranked", "--project", "proj", "--region", "us-central1",
            "--temp_location", "gs://b/tmp"]


def test_dataflow_prepares_here_uploads_builds_the_wheel_and_ranks(tmp_path):
    result = run_script("beam_preprocess.sh", *DATAFLOW, "--max_num_workers", "50", "--strategies",
                        "RecentDoc,RankDocBM25", "--beam_arg=--machine_type=n2-highmem-8", "--gin.X=1", "--dry-run",
                        env={**ENV, "TMPDIR": str(tmp_path)})
    prepare, upload, wheel, rank = printed_commands(result)
    local = f"{tmp_path}/personalize-prepared"
    assert prepare == ["personalize", "prepare", "--output_dir", local, "--dataset", "demo"]
    assert upload == ["gcloud", "storage", "rsync", "--recursive", local, "gs://b/prepared"]
    assert wheel == ["python3.11", "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                     f"{tmp_path}/personalize-dist", str(REPO)]
    assert rank == [
        "personalize", "rank", "--prepared_dir=gs://b/prepared", "--output_dir=gs://b/ranked",
        "--strategies=RecentDoc,RankDocBM25", "--runner=DataflowRunner", "--project=proj", "--region=us-central1",
        "--temp_location=gs://b/tmp", "--max_num_workers=50", "--beam_arg=--staging_location=gs://b/tmp/staging",
        f"--beam_arg=--extra_package={tmp_path}/personalize-dist/personalize-0.1.0-py3-none-any.whl",
        "--beam_arg=--machine_type=n2-highmem-8", "--gin.X=1"]


def test_flink_ranks_the_local_prepared_dataset():
    result = run_script("beam_preprocess.sh", "--runner", "FlinkRunner", "--format", "jsonl", "--input", "a.jsonl",
                        "--input", "b dir", "--prepare_arg=--fields=user_id=author", "--prepared_dir", "runs/p",
                        "--output_dir", "runs/r", "--flink_master", "flink:8081", "--dry-run", env=ENV)
    prepare, rank = printed_commands(result)
    assert prepare == ["personalize", "prepare", "--output_dir", "runs/p", "--format", "jsonl", "--input", "a.jsonl",
                       "--input", "b dir", "--fields=user_id=author"]
    assert rank == ["personalize", "rank", "--prepared_dir=runs/p", "--output_dir=runs/r", "--runner=FlinkRunner",
                    "--beam_arg=--flink_master=flink:8081", "--beam_arg=--environment_type=LOOPBACK"]


@pytest.mark.parametrize("option, expected", [
    (["--spark_master_url", "spark://m:7077"], ["--runner=SparkRunner", "--beam_arg=--spark_master_url=spark://m:7077"]),
    (["--job_endpoint", "js:8099"], ["--runner=PortableRunner", "--beam_arg=--job_endpoint=js:8099"]),
])
def test_spark_by_master_or_job_server(option, expected):
    result = run_script("beam_preprocess.sh", "--runner", "SparkRunner", "--skip_prepare", "--prepared_dir", "p",
                        "--output_dir", "r", *option, "--environment_type", "PROCESS", "--dry-run", env=ENV)
    (rank,) = printed_commands(result)
    assert rank == ["personalize", "rank", "--prepared_dir=p", "--output_dir=r", *expected,
                    "--beam_arg=--environment_type=PROCESS"]


@pytest.mark.parametrize("args, message", [
    (["--dry-run"], "missing required flag --runner"),
    (["--runner", "DirectRunner", "--output_dir", "r", "--dataset", "demo", "--dry-run"],
     "missing required flag --prepared_dir"),
    (["--runner", "DirectRunner", "--prepared_dir", "p", "--output_dir", "r", "--dry-run"],
     "missing required flag --dataset or --format"),
    (["--runner", "DirectRunner", "--prepared_dir", "p", "--output_dir", "r", "--format", "jsonl", "--dry-run"],
     "--format needs --input"),
    (["--runner", "DirectRunner", "--prepared_dir", "p", "--output_dir", "r", "--skip_prepare", "--dataset", "demo",
      "--dry-run"], "--skip_prepare takes no preparation flags"),
    ([*DATAFLOW[:-2], "--dry-run"], "missing required flag --temp_location"),
    ([a for a in DATAFLOW if a not in ("--project", "proj")] + ["--dry-run"], "missing required flag --project"),
    ([a.replace("gs://b/ranked", "/local/ranked") for a in DATAFLOW] + ["--dry-run"],
     "--output_dir must be a gs:// path for DataflowRunner"),
    ([*DATAFLOW, "--flink_master", "f:1", "--dry-run"], "--flink_master is not an option of DataflowRunner"),
    (["--runner", "FlinkRunner", "--skip_prepare", "--prepared_dir", "p", "--output_dir", "r", "--dry-run"],
     "missing required flag --flink_master"),
    (["--runner", "SparkRunner", "--skip_prepare", "--prepared_dir", "p", "--output_dir", "r", "--dry-run"],
     "SparkRunner needs --spark_master_url"),
    (["--runner", "SparkRunner", "--skip_prepare", "--prepared_dir", "p", "--output_dir", "r", "--job_endpoint",
      "j:1", "--spark_master_url", "spark://m:1", "--dry-run"], "not both"),
    (["--runner", "Dataflow", "--dry-run"], "--runner must be DataflowRunner, FlinkRunner, SparkRunner or DirectRunner"),
])
def test_bad_input_is_refused(args, message):
    result = run_script("beam_preprocess.sh", *args, env=ENV)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr


def test_without_dry_run_personalize_must_be_installed(tmp_path):
    path = tool_dir(tmp_path / "bin", ["bash", "dirname", "realpath"])
    result = run_script("beam_preprocess.sh", "--runner", "DirectRunner", "--skip_prepare", "--prepared_dir", "p",
                        "--output_dir", "r", env={"PATH": path, "PERSONALIZE": "personalize-missing"})
    assert result.returncode == 2 and "personalize-missing not found" in result.stderr
