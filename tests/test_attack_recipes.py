"""Recipes: the registry, both shipped recipes end to end, TextAttack pass-through, a recipe from a directory."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from attack_helpers import finetuned_checkpoint, small_substitute_embedding


@pytest.fixture(scope="session")
def finetuned(tmp_path_factory, data_root) -> Path:
    return finetuned_checkpoint(tmp_path_factory.getbasetemp() / "attack-finetuned-minilm")


@pytest.fixture(scope="session")
def embedding_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.getbasetemp() / "attack-infobench-home"
    small_substitute_embedding(home)
    return home


@pytest.fixture()
def offline_embedding(embedding_home, monkeypatch, tmp_path):
    """The test embedding as infobench's substitute; no real paragramcf in TextAttack's cache."""
    monkeypatch.setenv("INFOBENCH_HOME", str(embedding_home))
    monkeypatch.setenv("TA_CACHE_DIR", str(tmp_path / "ta-cache"))


def _attack(ckpt, recipe, results, n=4, budget=60, **kwargs):
    from benchmark.attack.runner import AttackSpec, run_attack

    spec = AttackSpec(checkpoint=ckpt, recipe=recipe, dataset="snli-test", n=n, seed=3, query_budget=budget,
                      results_dir=results, **kwargs)
    return run_attack(spec, quiet=True)


def _log(results: Path, record: dict) -> list[dict]:
    from benchmark.records import example_log_path

    lines = [json.loads(line) for line in example_log_path(results, record["record_id"]).read_text().splitlines()]
    assert "header" in lines[0]
    return lines[1:]


def _check_outcomes(record: dict, entries: list[dict]) -> None:
    assert record["counts"]["n"] == len(entries)
    assert record["counts"]["skipped"] < len(entries), "nothing was attacked: the test model is too weak"
    for entry in entries:
        assert (entry["result"] == "skipped") == (entry["prediction"] != entry["label"])
        assert entry["queries_total"] <= 60
        if entry["result"] != "skipped":
            assert entry["perturbed_premise"] == entry["premise"]  # NLI: the premise is frozen
        if entry["result"] == "successful":
            assert entry["perturbed_hypothesis"] != entry["hypothesis"]
            assert entry["perturbed_prediction"] != entry["label"]
            assert 0 < entry["words_perturbed"] and -1.0 <= entry["similarity"] <= 1.0
            assert entry["validity"]["flagged"] == bool(entry["validity"]["flags"]) and entry["validity"]["swaps"]
        else:
            assert entry["validity"] is None
    successes = sum(e["result"] == "successful" for e in entries)
    assert record["counts"]["validity_checked"] == successes
    metrics = record["metrics"]
    assert metrics["accuracy_under_attack_validity_filtered"] >= metrics["accuracy_under_attack"]


def test_registry_lists_shipped_recipes_with_their_declarations():
    from attacks.registry import RESOURCE_NAMES, discover

    registry = discover()
    assert {"textfooler", "pwws"} <= set(registry.names())
    for name in registry:
        recipe = registry.get(name)
        assert recipe.paper and set(recipe.resources) <= set(RESOURCE_NAMES) and "query_budget" in recipe.defaults
    assert registry.get("textfooler").defaults["use_threshold"] == pytest.approx(0.840845057)


def test_unknown_recipe_and_parameter_are_user_errors():
    from attacks.registry import get_recipe
    from benchmark.core.errors import UserError

    with pytest.raises(UserError, match="textfooler"):
        get_recipe("textfoler")
    with pytest.raises(UserError, match="min_cos_sim"):
        get_recipe("textfooler").resolve_params({"min_cos_similarity": 0.7})
    with pytest.raises(UserError, match="no recipe 'nosuch'"):
        get_recipe("textattack:nosuch")


def test_pwws_end_to_end(finetuned, tmp_path):
    record = _attack(finetuned, "pwws", tmp_path)
    entries = _log(tmp_path, record)
    _check_outcomes(record, entries)
    recipe = record["evaluation"]["recipe"]
    assert recipe["name"] == "pwws" and recipe["params"] == {"query_budget": 60}
    assert "InputColumnModification" in recipe["attack_repr"] and "WordSwapWordNet" in recipe["attack_repr"]
    assert [r["role"] for r in record["evaluation"]["resources"]] == ["nltk"]
    assert record["evaluation"]["similarity"]["encoder"]["kind"] in ("real", "substitute")


def test_textfooler_end_to_end_with_the_substitute_embedding(finetuned, tmp_path, offline_embedding):
    record = _attack(finetuned, "textfooler", tmp_path)
    _check_outcomes(record, _log(tmp_path, record))
    roles = {r["role"]: r for r in record["evaluation"]["resources"]}
    assert roles["word_embedding"]["kind"] == "substitute" and roles["word_embedding"]["substitute"] is True
    attack_repr = record["evaluation"]["recipe"]["attack_repr"]
    for component in ("WordSwapEmbedding", "WordEmbeddingDistance", "PartOfSpeech", "UniversalSentenceEncoder",
                      "delete"):
        assert component in attack_repr
    # The substitute's calibrated threshold stands in for TextFooler's 0.5, and the record says so.
    calibration = roles["word_embedding"]["calibration"]
    assert f"(min_cos_sim):  {calibration['threshold']}" in attack_repr and calibration["threshold"] > 0.5


@pytest.mark.parametrize("recipe", ["textfooler-strict", "pwws-strict"])
def test_strict_recipes_end_to_end(finetuned, tmp_path, offline_embedding, recipe):
    from benchmark.resources.calibration import translate

    record = _attack(finetuned, recipe, tmp_path)
    _check_outcomes(record, _log(tmp_path, record))
    evaluation = record["evaluation"]
    assert "LanguageTool" in evaluation["recipe"]["paper"]  # the offline departure is named in the record
    calibration = {r["role"]: r for r in evaluation["resources"]}["word_embedding"]["calibration"]
    attack_repr = evaluation["recipe"]["attack_repr"]
    assert f"(min_cos_sim):  {translate(0.9, calibration)}" in attack_repr
    assert "(threshold):  0.98" in attack_repr and "(metric):  cosine" in attack_repr


def test_textattack_recipe_passes_through(finetuned, tmp_path):
    record = _attack(finetuned, "textattack:deepwordbug", tmp_path, n=3, budget=40)
    entries = _log(tmp_path, record)
    assert record["evaluation"]["recipe"]["name"] == "textattack:deepwordbug"
    # The runner freezes the premise for NLI even though TextAttack's recipe does not.
    assert "InputColumnModification" in record["evaluation"]["recipe"]["attack_repr"]
    assert all(e["perturbed_premise"] in (None, e["premise"]) for e in entries)


RECIPE_MODULE = '''
    """Greedy neighbouring-character swaps (a recipe defined outside infobench)."""

    NAME = "charswap-test"
    PAPER = "test recipe"
    RESOURCES = ()


    def build(model_wrapper, resources, query_budget=None):
        from benchmark.resources import import_textattack

        textattack = import_textattack()
        pre = textattack.constraints.pre_transformation
        transformation = textattack.transformations.WordSwapNeighboringCharacterSwap(random_one=False)
        goal = textattack.goal_functions.UntargetedClassification(
            model_wrapper, query_budget=float("inf") if query_budget is None else query_budget)
        search = textattack.search_methods.GreedyWordSwapWIR(wir_method="delete")
        return textattack.Attack(goal, [pre.RepeatModification(), pre.StopwordModification()], transformation, search)
'''


def test_recipe_from_a_directory(finetuned, tmp_path, monkeypatch, run_cli):
    recipes = tmp_path / "my_recipes"
    recipes.mkdir()
    (recipes / "charswap.py").write_text(textwrap.dedent(RECIPE_MODULE))
    code, out, _ = run_cli("recipes", "--recipes-dir", str(recipes))
    assert code == 0 and "charswap-test" in out and "pwws" in out
    results = tmp_path / "results"
    code, out, err = run_cli("--quiet", "attack", str(finetuned), "--recipe", "charswap-test", "--recipes-dir",
                             str(recipes), "-n", "3", "--query-budget", "40", "--results", str(results))
    assert code == 0, err
    record = json.loads(next((results / "records").glob("*charswap-test*.json")).read_text())
    assert record["evaluation"]["recipe"]["paper"] == "test recipe" and record["counts"]["n"] == 3
    # The same recipe through INFOBENCH_RECIPES_PATH, in the Python API.
    monkeypatch.setenv("INFOBENCH_RECIPES_PATH", str(recipes))
    from attacks.registry import get_recipe

    assert get_recipe("charswap-test").source == str(recipes / "charswap.py")


def test_a_broken_recipe_module_is_named(tmp_path):
    from attacks.registry import discover
    from benchmark.core.errors import UserError

    (tmp_path / "half.py").write_text('NAME = "half"\n')
    with pytest.raises(UserError, match="half.py lacks PAPER"):
        discover([tmp_path])


def _recipe_file(folder: Path, name: str, signature: str, extra: str = "") -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name.replace('-', '_')}.py").write_text(
        f'NAME = "{name}"\nPAPER = "test"\nRESOURCES = ()\n{extra}\n\ndef build({signature}):\n    return None\n')


def test_recipe_parameters_come_from_the_build_signature(tmp_path):
    from attacks.registry import discover
    from benchmark.core.errors import UserError

    good = tmp_path / "good"
    _recipe_file(good, "sig-test", "model_wrapper, resources, max_candidates=7, query_budget=None, *, internal=1")
    # Keyword-only options are for code reusing build() (textfooler_strict), not for users.
    assert discover([good]).get("sig-test").defaults == {"max_candidates": 7, "query_budget": None}
    shipped = discover()  # the shipped recipes declare no DEFAULTS
    assert shipped.get("textfooler").defaults == {"max_candidates": 50, "min_cos_sim": 0.5, "use_threshold": 0.840845057,
                                                  "use_window_size": 15, "allow_verb_noun_swap": True,
                                                  "query_budget": None}
    assert shipped.get("pwws-strict").defaults == {"min_cos_sim": 0.9, "use_threshold": 0.98, "use_window_size": 15,
                                                   "query_budget": None}
    for case, signature, extra, message in [
            ("nodefault", "model_wrapper, resources, depth", "", "'depth' has no default"),
            ("kwargs", "model_wrapper, resources, **params", "", r"takes \*\*params"),
            ("disagree", "model_wrapper, resources, query_budget=None", 'DEFAULTS = {"query_budget": 5}',
             "disagrees with build"),
    ]:
        _recipe_file(tmp_path / case, f"{case}-test", signature, extra)
        with pytest.raises(UserError, match=message):
            discover([tmp_path / case])


def test_the_registry_is_built_once_per_process_until_refreshed(tmp_path):
    from attacks.registry import discover, get_recipe, refresh_recipes

    assert discover() is discover() and get_recipe("pwws") is get_recipe("pwws")
    folder = tmp_path / "recipes"
    _recipe_file(folder, "first-test", "model_wrapper, resources, query_budget=None")
    assert discover([folder]) is discover([folder]) and "first-test" in discover([folder])
    _recipe_file(folder, "second-test", "model_wrapper, resources, query_budget=None")
    assert "second-test" not in discover([folder])  # built once: a file added later is not scanned for
    refresh_recipes()
    assert {"first-test", "second-test"} <= set(discover([folder]).names())
