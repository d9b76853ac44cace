"""Fuzzing: loaders, the record parser and CLI parsing end in a result or a clear UserError, never a traceback."""

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark import data, records
from benchmark.cli import build_parser
from benchmark.core.errors import UserError
from models.config import resolve_config

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=10)
label_values = st.sampled_from(["entailment", "neutral", "contradiction", "-", "", "maybe"]) | st.integers(-3, 5) \
    | json_values
text_values = st.text(max_size=30) | json_values
rows = st.fixed_dictionaries({}, optional={"premise": text_values, "hypothesis": text_values, "label": label_values,
                                           "extra": json_values})


def _load_from(relative: str, payload: bytes, name: str):
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / relative
        path.parent.mkdir(parents=True)
        path.write_bytes(payload)
        old = os.environ.get("INFOBENCH_DATA")
        os.environ["INFOBENCH_DATA"] = root
        try:
            return data.load(name)
        finally:
            os.environ["INFOBENCH_DATA"] = old or ""


def _check_loaded_or_user_error(relative, payload, name):
    try:
        loaded = _load_from(relative, payload, name)
    except UserError as err:
        assert str(err)
        return
    for example in loaded.examples:  # anything accepted is well-formed: never a silently wrong example
        assert example["label"] in data.NLI_LABELS
        assert isinstance(example["premise"], str) and example["premise"].strip()
        assert isinstance(example["hypothesis"], str) and example["hypothesis"].strip()


@FUZZ
@given(st.binary(max_size=2000))
def test_jsonl_loader_on_random_bytes(payload):
    _check_loaded_or_user_error("snli/train_subset_18k.jsonl", payload, "snli-train")


@FUZZ
@given(st.lists(rows, min_size=1, max_size=6))
def test_jsonl_loader_on_wrong_types_and_missing_fields(items):
    payload = "\n".join(json.dumps(item) for item in items).encode()
    _check_loaded_or_user_error("anli/test_r1.jsonl", payload, "anli-r1-test")


@FUZZ
@given(st.binary(max_size=2000) | st.text(max_size=400).map(str.encode))
def test_tsv_loader_on_random_bytes(payload):
    _check_loaded_or_user_error("textfooler_1k/snli.tsv", payload, "snli-textfooler")


def test_huge_line_is_read_or_refused_cleanly():
    big = json.dumps({"premise": "word " * 400_000, "hypothesis": "h", "label": "neutral"}).encode()
    _check_loaded_or_user_error("snli/train_subset_18k.jsonl", big + b"\n", "snli-train")


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(records.REQUIRED) + ["created", "junk"]), json_values, max_size=10)
       | json_values)
def test_record_parser_on_arbitrary_json(document):
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "r.json"
        path.write_text(json.dumps(document))
        try:
            record = records.load_record(path)
        except UserError:
            return
        assert record["schema_version"] == records.SCHEMA_VERSION


@FUZZ
@given(st.binary(max_size=300))
def test_record_parser_on_random_bytes(payload):
    with tempfile.TemporaryDirectory() as root:
        path = Path(root) / "r.json"
        path.write_bytes(payload)
        with pytest.raises(UserError):
            records.load_record(path)


WORDS = ["train", "evaluate", "attack", "leaderboard", "datasets", "methods", "--method", "infobert", "--epochs",
         "-1", "nan", "x", "--dataset", "anli", "-n", "0", "--seed", "--lr", "1e9", "--format", "md", "--quiet",
         "--batch-size", "--help-me", "ckpt", ""]


@FUZZ
@given(st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=8))
def test_cli_parsing_exits_2_or_parses(argv):
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:
        assert exit_.code in (0, 2)
        return
    assert callable(args.handler)


@FUZZ
@given(st.dictionaries(st.sampled_from(["epochs", "batch_size", "lr", "max_length", "adv_steps", "c_low", "c_high",
                                        "beta", "alpha", "max_train", "ib_estimator", "mixed_precision"]),
                       st.integers(-5, 5) | st.floats(-2, 2, allow_nan=False) | st.text(max_size=5), max_size=5),
       st.sampled_from(["standard", "freelb", "infobert", "bogus"]))
def test_training_config_validation(overrides, method):
    try:
        cfg = resolve_config(method, "snli", overrides)
    except UserError as err:
        assert "training" in str(err)
        return
    assert cfg.epochs > 0 and cfg.batch_size > 0 and 0 <= cfg.c_low <= cfg.c_high <= 1
