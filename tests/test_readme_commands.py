"""The README's commands run as written.

Every `personalize ...` command of README.md's code blocks (and run.sh's demo command) goes through the real command
line up to the point where its work would start: argparse must accept it, and the gin files it names and the ones
the command adds must parse with its `--gin.X=Y` bindings (each one resolving against the configurables the files
import, no macro left unused). Then the command stops, before any preparation, training or download. A command
quoted in the prose is held to the same where it is complete; one with placeholders (`DIR`, `...`, `hf|t5x`) only
needs its subcommand and options to exist. Every `--gin.X=Y` of the prose must resolve in the configuration of one
of the commands that take such settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import pathlib
import re
import shlex

import gin
import pytest

from personalize import gin_config
from personalize.cli import main as cli
from personalize.partitioning import platforms

REPO = pathlib.Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
RUN_SH = (REPO / "run.sh").read_text(encoding="utf-8")
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
COMMAND = re.compile(r"^(?:\$ )?(?:\.venv/bin/)?personalize ([a-z][a-z-]*)\b")
PLACEHOLDER = re.compile(r"\.\.\.|\||\*|\b[A-Z][A-Z_]*[A-Z]\b|\b[A-Z]\b")  # DIR, NAME, MODEL_DIR, P, ..., a|b, ranked-*
TAKES_NO_GIN = {"headline-corpus", "export", "evaluate-lamp"}  # they refuse gin flags; their work starts at once

# The prose's bindings resolve in one of these: the gin files the commands that take such settings parse.
BINDING_CONTEXTS = {
    "experiment": ["datasets/demo.gin", "experiments/experiment.gin", "experiments/model_tiny.gin"],
    "train": ["models/t5_1_1/small.gin", "runs/finetune.gin", "tasks/register.gin"],
    "infer": ["models/t5_1_1/small.gin", "runs/infer.gin", "tasks/register.gin"],
    "compile": ["models/t5_1_1/small.gin", "runs/finetune.gin", "partitioning/1d.gin"],
    "prepare": ["prepare/prepare.gin"],
    "pretrain": ["prepare/prepare.gin", "pretrain/pretrain.gin", "pretrain/model_tiny.gin"],
    "rank": ["ranking/rank.gin"],
}
# The README's examples of settings that stop a run (Training T5: "exit with gin configuration error: ...").
REFUSED_MACROS = {"NOT_A_T5X_MACRO", "INITIAL_CHECKPOINT"}


@dataclasses.dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    where: str  # "README.md:LINE" or "run.sh:LINE"
    complete: bool  # in a code block, or quoted in the prose without placeholders

    def __str__(self):
        return f"{self.where}: personalize {shlex.join(self.argv)}"

    @property
    def id(self):
        return f"{self.where} {self.argv[0]}"


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _code_block_commands() -> list[Command]:
    commands: list[Command] = []
    for block in FENCE.finditer(README):
        body_start = block.start(2)
        lines = block.group(2).split("\n")
        index = 0
        while index < len(lines):
            start = index
            text = lines[index]
            while text.endswith("\\") and index + 1 < len(lines):
                index += 1
                text = text[:-1] + " " + lines[index].strip()
            index += 1
            match = COMMAND.match(text.strip())
            if not match:
                continue
            argv = shlex.split(text.strip()[match.start(1):], comments=True)
            if "..." in argv:  # "the same, with ...": the arguments of the last command of that name
                earlier = [c.argv[1:] for c in commands if c.argv[0] == argv[0]]
                at = argv.index("...")
                argv[at:at + 1] = earlier[-1] if earlier else []
            offset = body_start + sum(len(line) + 1 for line in lines[:start])
            commands.append(Command(tuple(argv), f"README.md:{_line(README, offset)}", complete=True))
    return commands


def _prose() -> str:
    return FENCE.sub(lambda block: "\n" * block.group(0).count("\n"), README)  # keeps the line numbers


def _prose_spans() -> list[tuple[str, str]]:
    prose = _prose()
    return [(" ".join(span.group(1).split()), f"README.md:{_line(prose, span.start())}")
            for span in re.finditer(r"`([^`]+)`", prose)]


def _prose_commands() -> list[Command]:
    commands = []
    for span, where in _prose_spans():
        match = COMMAND.match(span)
        if match:
            argv = span[match.start(1):]
            complete = " --" in argv and not PLACEHOLDER.search(argv)  # a bare `personalize rank` names the command
            commands.append(Command(tuple(shlex.split(argv)), where, complete=complete))
    return commands


def _run_sh_demo() -> Command:
    match = re.search(r"exec \.venv/bin/personalize (experiment [^\n]*?) \"\$@\"", RUN_SH)
    assert match, "run.sh's demo command (exec .venv/bin/personalize experiment ...) not found"
    return Command(tuple(shlex.split(match.group(1))), f"run.sh:{_line(RUN_SH, match.start())}", complete=True)


def _prose_bindings() -> list[tuple[str, str]]:
    bindings = []
    for span, where in _prose_spans():
        for token in shlex.split(span) if "--gin." in span else []:
            if token.startswith("--gin.") and not token.startswith("--gin.X="):  # --gin.X=Y: the form itself
                bindings.append((token, where))
    for block in FENCE.finditer(README):  # gin code blocks: `X = Y` lines
        if block.group(1).strip() == "gin":
            for number, line in enumerate(block.group(2).splitlines(), start=_line(README, block.start(2))):
                if re.match(r"^[\w./]+ = ", line):
                    bindings.append(("--gin." + line.replace(" = ", "=", 1), f"README.md:{number}"))
    return bindings


CODE_BLOCK_COMMANDS = _code_block_commands() + [_run_sh_demo()]
PROSE_COMMANDS = _prose_commands()
PROSE_BINDINGS = _prose_bindings()


def test_the_readme_is_read():
    subcommands = {command.argv[0] for command in CODE_BLOCK_COMMANDS}
    assert {"prepare", "rank", "context-quality", "inspect", "train", "infer", "pretrain", "experiment",
            "compile"} <= subcommands, subcommands
    assert len(CODE_BLOCK_COMMANDS) >= 19 and len(PROSE_COMMANDS) >= 40 and len(PROSE_BINDINGS) >= 8
    assert any(command.complete for command in PROSE_COMMANDS)
    for name in REFUSED_MACROS:  # the README still gives them as the examples of refused settings
        assert any(token.startswith(f"--gin.{name}=") for token, _ in PROSE_BINDINGS), name


class _GinParsed(BaseException):
    """Raised once a command's gin configuration parsed: its work is not started."""


@pytest.fixture
def run_until_its_work(monkeypatch, tmp_path, capsys):
    """Runs `personalize ARGV` from a scratch folder until the command has parsed its gin configuration."""
    monkeypatch.setattr(platforms, "leave_out_absent_tpu", lambda environ=None: None)
    monkeypatch.chdir(tmp_path)
    environment = dict(os.environ)  # a command may set variables for its own process (compile: JAX_PLATFORMS)
    real_parse_gin = gin_config.parse_gin

    def run(command: Command) -> dict:
        seen: dict = {}

        def parse_then_stop(files, bindings):
            real_parse_gin(files, bindings)
            seen["gin"] = (list(files), list(bindings))
            raise _GinParsed

        subcommand = command.argv[0]
        assert subcommand in cli.SUBCOMMANDS, f"{command}: no subcommand {subcommand!r}"
        target = cli._load(cli.SUBCOMMANDS[subcommand])
        original = target.run_command

        def run_command(args, gin_files, gin_bindings):
            seen["args"] = args
            if subcommand in TAKES_NO_GIN:
                return 0
            try:
                original(args, gin_files, gin_bindings)
            except _GinParsed:
                return 0
            raise AssertionError(f"{command}: returned without parsing its gin configuration")

        monkeypatch.setattr(gin_config, "parse_gin", parse_then_stop)
        monkeypatch.setattr(target, "run_command", run_command)
        try:
            code = cli.main(list(command.argv))
        except SystemExit as exit:  # argparse's refusal, or gin's (parse_gin: "gin configuration error: ...")
            pytest.fail(f"{command}\n  exits: {exit.code}\n{capsys.readouterr().err}")
        finally:
            monkeypatch.setattr(gin_config, "parse_gin", real_parse_gin)
            monkeypatch.setattr(target, "run_command", original)
            gin.clear_config()
        assert code == 0, f"{command}\n  returns {code}:\n{capsys.readouterr().err}"
        return seen

    yield run
    os.environ.clear()
    os.environ.update(environment)


def _write_outputs_of_earlier_commands(command: Command, folder: pathlib.Path) -> None:
    """`--gin_file=OUT/start.gin` names what an earlier `personalize pretrain --output_dir OUT` writes: written here
    by the same function, so the experiment's gin check reads a real one."""
    from personalize.models.t5.config import T5Config
    from personalize.pretraining.stage import write_start_gin

    pretrain_outputs = {c.argv[c.argv.index("--output_dir") + 1] for c in CODE_BLOCK_COMMANDS
                        if c.argv[0] == "pretrain" and "--output_dir" in c.argv}
    files, _, _ = gin_config.split_gin_flags(command.argv)
    for name in files:
        path = pathlib.Path(name)
        if path.name == "start.gin" and str(path.parent) in pretrain_outputs:
            (folder / path.parent).mkdir(parents=True, exist_ok=True)
            write_start_gin(path=str(folder / path), checkpoint_dir=str(folder / path.parent / "checkpoint"),
                            model_config=T5Config(emb_dim=8, num_heads=2, head_dim=4, mlp_dim=16, num_encoder_layers=1,
                                                  num_decoder_layers=1),
                            checkpoint_format="hf", vocabulary_path=str(folder / path.parent / "checkpoint/spm.model"))


@pytest.mark.parametrize("command", CODE_BLOCK_COMMANDS + [c for c in PROSE_COMMANDS if c.complete],
                         ids=lambda command: command.id)
def test_a_complete_command_parses_and_its_gin_configuration_resolves(command, run_until_its_work, tmp_path):
    if command.argv[0] == "compile" and importlib.util.find_spec("libtpu") is None:
        pytest.skip("personalize compile needs libtpu (the tpu extra that run.sh installs)")
    _write_outputs_of_earlier_commands(command, tmp_path)
    seen = run_until_its_work(command)
    assert "args" in seen, f"{command}: the subcommand did not run"
    if command.argv[0] not in TAKES_NO_GIN:
        files, bindings = seen["gin"]
        given_files, given_bindings, _ = gin_config.split_gin_flags(command.argv)
        assert set(given_files) <= set(files) and set(given_bindings) <= set(bindings), (command, seen["gin"])


def _subparser(subcommand):
    parser = argparse.ArgumentParser(prog=f"personalize {subcommand}")
    parser.add_argument("--gin_file", action="append")
    parser.add_argument("--verbose", action="store_true")
    cli._load(cli.SUBCOMMANDS[subcommand]).add_arguments(parser)
    return parser


@pytest.mark.parametrize("command", [c for c in PROSE_COMMANDS if not c.complete], ids=lambda command: command.id)
def test_a_quoted_command_with_placeholders_names_a_subcommand_and_its_options(command):
    subcommand, *tokens = command.argv
    assert subcommand in cli.SUBCOMMANDS, f"{command}: no subcommand {subcommand!r}"
    options = _subparser(subcommand)._option_string_actions
    for index, token in enumerate(tokens):
        if not token.startswith("--") or token.startswith("--gin."):
            continue
        name, _, value = token.partition("=")
        assert name in options, f"{command}: personalize {subcommand} has no option {name}"
        if not value and index + 1 < len(tokens) and not tokens[index + 1].startswith("--"):
            value = tokens[index + 1]
        choices = options[name].choices
        if choices and value and value != "...":
            for alternative in value.split("|"):  # `--format hf|t5x`: each one a valid choice
                assert alternative in choices, f"{command}: {alternative!r} is not one of {sorted(choices)}"


def _parses_in(files, binding) -> str | None:
    """None when `binding` parses after `files`, else the error (gin_config.parse_gin's message)."""
    try:
        gin_config.parse_gin(files, [binding])
    except SystemExit as error:
        return str(error.code)
    finally:
        gin.clear_config()
    return None


@pytest.mark.parametrize("token, where", PROSE_BINDINGS, ids=[f"{w}: {t}" for t, w in PROSE_BINDINGS])
def test_a_quoted_gin_binding_resolves_in_a_commands_configuration(token, where):
    key, _, value = token[len("--gin."):].partition("=")
    binding = f"{key} = {value if value and value != '...' else 'None'}"  # `--gin.runner.f.x`: the parameter exists
    errors = {name: _parses_in(files, binding) for name, files in BINDING_CONTEXTS.items()}
    if key in REFUSED_MACROS:
        assert all(error and f"{key} is set but nothing in the configuration uses it" in error
                   for error in errors.values()), (where, errors)
    else:
        assert None in errors.values(), f"{where}: {token} resolves in no command's configuration: {errors}"


@pytest.mark.parametrize("argv", [
    ["headline-corpus", "--prepared_dir", "P", "--output", "O"],
    ["export", "--predictions", "P", "--task", "LaMP_4", "--output", "O"],
    ["evaluate-lamp", "--golds", "G", "--predictions", "P"],
], ids=lambda argv: argv[0])
def test_a_command_taken_to_need_no_gin_refuses_it_before_any_work(argv, capsys, monkeypatch):
    # So the check above may stop them at argparse: their run_command would start the work at once.
    assert argv[0] in TAKES_NO_GIN
    monkeypatch.setattr(platforms, "leave_out_absent_tpu", lambda environ=None: None)
    assert cli.main([*argv, "--gin.X=1"]) == 2
    assert "takes no gin configuration" in capsys.readouterr().err


def test_the_check_fails_a_command_that_does_not_run_as_written(run_until_its_work):
    base = ("experiment", "--dataset", "demo", "--output_dir", "D")
    broken = {
        "an unknown option": (*base, "--no_such_option"),
        "a missing gin file": (*base, "--gin_file=experiments/no_such.gin"),
        "a misspelt configurable": (*base, "--gin.runner.TrainingSetings.train_steps=3"),
        "an unknown parameter": (*base, "--gin.runner.TrainingSettings.no_such=3"),
        "a macro nothing uses": (*base, "--gin.NOT_A_T5X_MACRO=3"),
        "an unknown reference": (*base, "--gin.runner.run_experiment.pretraining=@runner.NoSuchSettings()"),
    }
    assert run_until_its_work(Command(base, "here", complete=True))["gin"]
    for reason, argv in broken.items():
        with pytest.raises(pytest.fail.Exception):
            run_until_its_work(Command(argv, reason, complete=True))


def test_a_binding_of_a_configurable_no_gin_file_mentions_resolves_through_the_files_imports():
    # experiment.gin imports the runner but never names PretrainingSettings: from the command line the reference
    # resolves as it does in a gin file, and the settings it makes carry the other bindings.
    files = BINDING_CONTEXTS["experiment"]
    try:
        gin_config.parse_gin(files, ["runner.run_experiment.pretraining = @runner.PretrainingSettings()",
                                     "runner.PretrainingSettings.train_steps = 7"])
        settings = gin.query_parameter("runner.run_experiment.pretraining").scoped_configurable_fn()
        assert type(settings).__name__ == "PretrainingSettings" and settings.train_steps == 7
        with pytest.raises(SystemExit, match="No configurable matching reference '@runner.NoSuchSettings"):
            gin_config.parse_gin(files, ["runner.run_experiment.pretraining = @runner.NoSuchSettings()"])
        with pytest.raises(SystemExit, match="No configurable matching reference '@nowhere.PretrainingSettings"):
            gin_config.parse_gin(files, ["runner.run_experiment.pretraining = @nowhere.PretrainingSettings()"])
    finally:
        gin.clear_config()
