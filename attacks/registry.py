"""The recipe registry: finds recipe modules, checks their declarations, builds attacks.

A recipe is a module (under attacks/, in a directory listed by INFOBENCH_RECIPES_PATH or
`--recipes-dir`, or named by an entry point in the group "infobench.recipes") that declares

    NAME = "textfooler"                  # how users call it
    PAPER = "Jin et al. 2020, ..."       # what it reproduces
    RESOURCES = ("word_embedding", ...)  # names from RESOURCE_NAMES
    def build(model_wrapper, resources, max_candidates=50, query_budget=None) -> textattack.Attack

The recipe's parameters and their defaults are read from build()'s signature (every
parameter after the first two has a default), so they are written in one place.

Recipe modules import textattack inside `build` only (through
benchmark.resources.import_textattack), so listing recipes stays fast. Any recipe that
ships with TextAttack is available as "textattack:NAME" (textattack:bae, ...).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import os
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from benchmark.core.errors import UserError
from benchmark.core.registry import Registry

RECIPES_PATH_ENV = "INFOBENCH_RECIPES_PATH"
ENTRY_POINT_GROUP = "infobench.recipes"
TEXTATTACK_PREFIX = "textattack:"
NOT_RECIPES = {"registry"}  # modules of this package that are not recipes (plus any "_name")
RESOURCE_NAMES = ("nltk", "word_embedding", "sentence_encoder")
_REQUIRED = ("NAME", "PAPER", "RESOURCES", "build")
_BUILD_POSITIONALS = 2  # build(model_wrapper, resources, ...): the parameters start after these


@dataclass(frozen=True)
class Recipe:
    name: str
    paper: str
    resources: tuple[str, ...]
    defaults: dict
    build: Callable
    source: str
    description: str = ""
    aliases: tuple[str, ...] = field(default=())

    def resolve_params(self, overrides: dict | None = None) -> dict:
        """Defaults with the user's overrides on top; an unknown parameter is a UserError."""
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = sorted(set(overrides) - set(self.defaults))
        if unknown:
            raise UserError(f"recipe {self.name!r} has no parameter {', '.join(unknown)}; "
                            f"its parameters: {', '.join(sorted(self.defaults)) or 'none'}")
        for key, value in overrides.items():
            if not _same_kind(self.defaults[key], value):
                raise UserError(f"recipe {self.name!r}: parameter {key} takes a value like "
                                f"{self.defaults[key]!r}, got {value!r}")
        return {**self.defaults, **overrides}


def _same_kind(default, value) -> bool:
    """Numbers for numbers (a None default means a number or nothing), booleans for booleans."""
    def is_number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if default is None or is_number(default):
        return is_number(value)
    return isinstance(value, type(default))


def recipe_from_module(module, source: str) -> Recipe:
    """Check a recipe module's declarations and wrap them in a Recipe."""
    missing = [name for name in _REQUIRED if not hasattr(module, name)]
    if missing:
        raise UserError(f"recipe module {source} lacks {', '.join(missing)}; a recipe declares "
                        f"{', '.join(_REQUIRED)} (see docs/adding-a-recipe.md)")
    unknown = sorted(set(module.RESOURCES) - set(RESOURCE_NAMES))
    if unknown:
        raise UserError(f"recipe module {source} needs unknown resources {unknown}; known: {list(RESOURCE_NAMES)}")
    defaults = build_defaults(module.build, source)
    declared = getattr(module, "DEFAULTS", None)  # older recipes repeated them; they must agree
    if declared is not None and dict(declared) != defaults:
        raise UserError(f"recipe module {source}: DEFAULTS {dict(declared)} disagrees with build()'s signature "
                        f"{defaults}; delete DEFAULTS, the signature is the one source")
    doc = (module.__doc__ or "").strip().splitlines()
    return Recipe(name=module.NAME, paper=module.PAPER, resources=tuple(module.RESOURCES),
                  defaults=defaults, build=module.build, source=source,
                  description=doc[0] if doc else "", aliases=tuple(getattr(module, "ALIASES", ())))


def build_defaults(build: Callable, source: str) -> dict:
    """{parameter: default} for build()'s parameters after (model_wrapper, resources).

    Keyword-only parameters (after a `*`) are not recipe parameters: they are options for
    code that reuses the function (textfooler_strict calls textfooler.build with them).
    """
    parameters = list(inspect.signature(build).parameters.values())[_BUILD_POSITIONALS:]
    defaults = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise UserError(f"recipe {source}: build() takes {parameter}; name each parameter with its default")
        if parameter.default is parameter.empty:
            raise UserError(f"recipe {source}: build() parameter {parameter.name!r} has no default; "
                            "every parameter after (model_wrapper, resources) needs one")
        if parameter.kind != parameter.KEYWORD_ONLY:
            defaults[parameter.name] = parameter.default
    return defaults


def discover(recipes_dirs: list[str | Path] = ()) -> Registry[Recipe]:
    """Every recipe: built-in modules, extra directories, then entry points.

    Built once per process for each set of directories (INFOBENCH_RECIPES_PATH's included);
    a recipe file added or edited afterwards is seen after `refresh_recipes()`.
    """
    directories = tuple([*_env_dirs(), *map(Path, recipes_dirs)])
    return _build_registry(directories)


def refresh_recipes() -> None:
    """Forget the registries built so far: the next lookup finds recipe files anew (tests, notebooks)."""
    _build_registry.cache_clear()
    _file_recipe.cache_clear()


@functools.lru_cache(maxsize=None)
def _build_registry(directories: tuple[Path, ...]) -> Registry[Recipe]:
    registry: Registry[Recipe] = Registry("recipe")
    for recipe in _builtin_recipes():
        _add(registry, recipe)
    for directory in directories:
        for recipe in _directory_recipes(directory):
            _add(registry, recipe)
    for recipe in _entry_point_recipes():
        _add(registry, recipe)
    return registry


def get_recipe(name: str, recipes_dirs: list[str | Path] = ()) -> Recipe:
    """A recipe by name; "textattack:NAME" passes any TextAttack recipe through."""
    if name.startswith(TEXTATTACK_PREFIX):
        return textattack_recipe(name[len(TEXTATTACK_PREFIX):])
    registry = discover(recipes_dirs)
    try:
        return registry.get(name)
    except UserError as err:
        raise UserError(f"{err} TextAttack's own recipes are {TEXTATTACK_PREFIX}NAME "
                        f"(`infobench recipes --textattack` lists them).") from None


def _add(registry: Registry[Recipe], recipe: Recipe) -> None:
    if recipe.name in registry:
        raise UserError(f"recipe {recipe.name!r} is defined twice: in {registry.get(recipe.name).source} "
                        f"and in {recipe.source}; rename one")
    registry.register(recipe.name, recipe, aliases=recipe.aliases)


def _builtin_recipes() -> list[Recipe]:
    import attacks

    names = sorted(info.name for info in pkgutil.iter_modules(attacks.__path__)
                   if not info.name.startswith("_") and info.name not in NOT_RECIPES)
    return [recipe_from_module(importlib.import_module(f"attacks.{name}"), f"attacks/{name}.py") for name in names]


def _env_dirs() -> list[Path]:
    raw = os.environ.get(RECIPES_PATH_ENV, "")
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]


def _directory_recipes(directory: Path) -> list[Recipe]:
    if not directory.is_dir():
        raise UserError(f"recipes directory not found: {directory} (from --recipes-dir or {RECIPES_PATH_ENV})")
    return [_file_recipe(str(path), path.stat().st_mtime_ns) for path in sorted(directory.glob("*.py"))
            if not path.name.startswith("_")]


@functools.lru_cache(maxsize=256)
def _file_recipe(path: str, mtime_ns: int) -> Recipe:
    """Load a recipe file once per version of it (a refreshed registry reloads only edited files)."""
    tag = hashlib.sha256(path.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"infobench_extra_recipe_{tag}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (SyntaxError, ImportError) as err:
        raise UserError(f"cannot load recipe file {path}: {type(err).__name__}: {err}") from None
    return recipe_from_module(module, path)


def _entry_point_recipes() -> list[Recipe]:
    from importlib.metadata import entry_points

    found = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        target = point.load()
        found.append(target if isinstance(target, Recipe)
                     else recipe_from_module(target, f"entry point {point.name} = {point.value}"))
    return found


def textattack_recipe_names() -> list[str]:
    from benchmark.resources import import_textattack

    import_textattack()
    from textattack.attack_args import ATTACK_RECIPE_NAMES

    return sorted(ATTACK_RECIPE_NAMES)


def textattack_recipe(name: str) -> Recipe:
    """TextAttack's own recipe NAME, built as TextAttack builds it (plus a query budget)."""
    names = textattack_recipe_names()
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, names, n=3)
        hint = f" Did you mean {', '.join(TEXTATTACK_PREFIX + c for c in close)}?" if close else ""
        raise UserError(f"TextAttack has no recipe {name!r}.{hint} Known: {', '.join(names)}.")
    from textattack.attack_args import ATTACK_RECIPE_NAMES

    class_name = ATTACK_RECIPE_NAMES[name].rsplit(".", 1)[-1]  # resolved by attribute, never eval()
    recipe_class = getattr(importlib.import_module("textattack.attack_recipes"), class_name)
    builder = _textattack_builder(name, recipe_class)
    doc = (recipe_class.__doc__ or "").strip().splitlines()
    return Recipe(name=TEXTATTACK_PREFIX + name, paper=doc[0].strip() if doc else class_name,
                  resources=(), defaults=build_defaults(builder, class_name),
                  build=builder, source=f"textattack.attack_recipes.{class_name}",
                  description=f"TextAttack's {class_name}, unchanged")


def _textattack_builder(name: str, recipe_class) -> Callable:
    def build(model_wrapper, resources, query_budget=None):
        # TextAttack recipes fetch what they need themselves (S3, TF-Hub, the HF hub). Share
        # the located word embedding the way TextAttack shares its own, so recipes built on
        # the counter-fitted vectors use infobench's copy offline (recorded only if used).
        from benchmark.resources import nltk_downloads_blocked

        embedding = resources.share_word_embedding_with_textattack()
        try:
            with nltk_downloads_blocked():  # e.g. WordSwapWordNet asks for data English does not need
                attack = recipe_class.build(model_wrapper)
        except (OSError, ImportError, LookupError, ValueError) as err:
            raise UserError(f"TextAttack recipe {name!r} could not load a resource it needs: "
                            f"{type(err).__name__}: {err}. Fix: run where it can download it once, "
                            "or pick a recipe whose resources `infobench recipes` shows as present.") from None
        if embedding is not None and _holds(attack, embedding):
            resources.word_embedding()
        if query_budget is not None:
            attack.goal_function.query_budget = query_budget
        return attack

    return build


class RecipeResources:
    """What a recipe's build() asks for; remembers every resource handed out (for the record)."""

    def __init__(self):
        self._used: dict[str, dict] = {}
        self._embedding = None
        self._embedding_info = None
        self._encoder = None

    def nltk(self) -> None:
        """Check NLTK's data (WordNet, stopwords, POS tagger) is there; UserError naming the fix if not."""
        from benchmark import resources

        info = resources.nltk_status()
        if info.kind == "missing":
            raise UserError(f"NLTK data is missing ({info.detail}). Fix: {info.how_to_get}")
        self._use("nltk", info)

    def word_embedding(self):
        """The counter-fitted word embedding (a textattack WordEmbedding), real or substitute."""
        self._load_embedding()
        self._use("word_embedding", self._embedding_info)
        return self._embedding

    def sentence_encoder(self, **options):
        """A sentence-encoder constraint (USE or its substitute) with the recipe's options."""
        from benchmark import resources

        constraint, info = resources.sentence_encoder(**options)
        self._use("sentence_encoder", info)
        self._encoder = (constraint, info)
        return constraint

    def similarity_encoder(self):
        """(encoder, record) for the similarity metric: the recipe's own encoder when it has one
        (loaded once), else a fresh one, which is not listed among the recipe's resources."""
        from benchmark import resources

        if self._encoder is None:
            self._encoder = resources.sentence_encoder()
        constraint, info = self._encoder
        return constraint, info.as_record()

    def share_word_embedding_with_textattack(self):
        """Put the located embedding where TextAttack's recipes look for theirs; None if there is none."""
        from benchmark import resources

        try:
            self._load_embedding()
        except UserError:
            return None  # a recipe that needs it fails with TextAttack's own message
        textattack = resources.import_textattack()
        textattack.shared.utils.GLOBAL_OBJECTS["textattack_counterfitted_GLOVE_embedding"] = self._embedding
        return self._embedding

    def _load_embedding(self) -> None:
        from benchmark import resources

        if self._embedding is None:
            self._embedding, self._embedding_info = resources.word_embedding()

    def used(self) -> list[dict]:
        return [self._used[name] for name in sorted(self._used)]

    def _use(self, name: str, info) -> None:
        self._used[name] = {"role": name, **info.as_record()}


def resource_status(name: str):
    """The ResourceInfo of one declared resource, found without loading it (for `infobench recipes`)."""
    from benchmark import resources

    check = {"nltk": resources.nltk_status, "word_embedding": resources.embedding_status,
             "sentence_encoder": resources.sentence_encoder_status}
    return check[name]()


def _holds(attack, target) -> bool:
    """Whether any component of `attack` (transformation, constraints) refers to `target`."""
    components = [attack.transformation, *getattr(attack.transformation, "transformations", []),
                  *attack.constraints, *attack.pre_transformation_constraints]
    return any(value is target for component in components for value in vars(component).values())
