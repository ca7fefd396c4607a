import json

from personalize.cli.main import main


def test_prepare_demo_with_a_gin_override_writes_shards_statistics_and_operative_config(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["prepare", "--dataset", "demo", "--output_dir", str(out),
                 "--gin.prepare.prepare_corpus.min_target_chars=400", "--num_shards", "2"]) == 0
    printed = capsys.readouterr()
    assert "| demo |" in printed.out
    assert "body of 400 characters or fewer" in printed.err
    assert "prepare.prepare_corpus.min_target_chars = 400" in (out / "config.gin").read_text()
    statistics = json.loads((out / "statistics.json").read_text())
    assert statistics["preparation"]["examples"] == statistics["table1"]["examples"]
    assert len(json.loads((out / "manifest.json").read_text())["shards"]["train"]) == 2


def test_prepare_jsonl_bad_line_exits_2_naming_the_line(tmp_path, capsys):
    source = tmp_path / "posts.jsonl"
    source.write_text('{"a": "u", "t": "2004-01-01", "x": "hi"}\n{"a": "u", "t": "someday", "x": "hi"}\n')
    args = ["prepare", "--format", "jsonl", "--input", str(source), "--fields", "user_id=a,timestamp=t,body=x",
            "--output_dir", str(tmp_path / "out")]
    assert main(args) == 2
    assert f"{source}:2: field 't': unparseable date" in capsys.readouterr().err
    assert main(args + ["--skip_bad"]) == 0
    assert "skipped       1 x t: unparseable date" in capsys.readouterr().err
