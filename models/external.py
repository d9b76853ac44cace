"""Checkpoints not trained by infobench: any `save_pretrained` folder or hub id gets a synthesized card.

The card says where the weights came from (a folder, or a hub id and the commit it resolved to),
the architecture, the sha256 of every safetensors file, the label mapping used and
`method: external`. Its `model_id` is the folder (or hub) name plus eight hex digits of a hash
over the weights and the label order, so two label mappings of one model never share records.

Labels are mapped by name (docs/label-mapping.md): `config.id2label` is read case-insensitively
with the usual aliases; generic names (LABEL_0...) need `--labels`; a two-way model
(entailment / not_entailment) keeps its two labels and is scored only on two-way datasets.
Nothing is ever guessed from positions.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from benchmark.data.declarations import canonical_label
from benchmark.core.atomic import read_json_file
from benchmark.core.errors import UserError

TWO_WAY = ("entailment", "not_entailment")
NLI_MAX_LENGTH = 128  # the zoo's setting, so external rows compare with zoo rows
QA_WINDOW = {"max_length": 384, "doc_stride": 128}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
LABELS_FLAG_HINT = "--labels entailment,neutral,contradiction (the names of ids 0,1,2 in order)"


@dataclass(frozen=True)
class CheckpointRef:
    """A checkpoint as the user named it: a folder or hub id, plus how to read a card-less one."""

    location: str
    revision: str | None = None
    labels: tuple[str, ...] | None = None  # --labels: names of ids 0..k-1, for LABEL_k models

    def __fspath__(self) -> str:
        return self.location

    def __str__(self) -> str:
        return self.location


def as_ref(checkpoint) -> CheckpointRef:
    return checkpoint if isinstance(checkpoint, CheckpointRef) else CheckpointRef(str(checkpoint))


def parse_labels(text: str | None) -> tuple[str, ...] | None:
    """`--labels a,b,c` -> canonical names, refusing unknown ones with the accepted names."""
    if text is None:
        return None
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    mapped = tuple(canonical_label(name) for name in names)
    unknown = [name for name, label in zip(names, mapped) if label is None]
    if unknown or not names:
        raise UserError(f"--labels: unknown label names {unknown or [text]}; use entailment, neutral, "
                        "contradiction (or not_entailment), in the order of the model's ids")
    return mapped


def is_hub_id(text: str) -> bool:
    """org/name that is not a local path (nor under an existing local folder "org")."""
    return bool(_HUB_ID.match(text)) and not Path(text).exists() and not Path(text).parent.is_dir()


# ---- the folder ---------------------------------------------------------------------------------

def local_folder(ref: CheckpointRef) -> tuple[Path, dict]:
    """(folder holding the files, source description); hub ids are fetched (safetensors only)."""
    path = Path(ref.location)
    if path.is_dir():
        if ref.revision is not None:
            raise UserError(f"--revision {ref.revision} applies to hub ids; {path} is a local folder")
        return path, {"path": str(path.resolve())}
    if not is_hub_id(ref.location):
        raise UserError(f"checkpoint not found: {ref.location} (a folder saved with save_pretrained, "
                        "an infobench checkpoint, or a hub id org/name)")
    return _download(ref)


def _download(ref: CheckpointRef) -> tuple[Path, dict]:
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken"]  # never pickles
    try:
        folder = snapshot_download(ref.location, revision=ref.revision, allow_patterns=patterns)
    except Exception as err:  # offline, unknown repo or revision, network: all end the same way for a user
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        why = "HF_HUB_OFFLINE is set and it is not in the local cache" if offline else \
            f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
        raise UserError(f"cannot fetch {ref.location} from the Hugging Face hub ({why}); download it where there "
                        f"is a network (`huggingface-cli download {ref.location} --local-dir DIR`) and pass the "
                        "folder DIR instead") from None
    return Path(folder), {"hub_id": ref.location, "revision": ref.revision or "main",
                          "commit": Path(folder).name}


def weights_files(folder: Path) -> dict[str, str]:
    """sha256 of every safetensors file; pickle-only folders are refused with the conversion command."""
    found = sorted(p for p in folder.iterdir() if p.suffix == ".safetensors" and p.is_file())
    if not found:
        from models.safe_weights import PICKLE_SUFFIXES, refuse_pickles

        if any(p.suffix in PICKLE_SUFFIXES for p in folder.iterdir()):
            refuse_pickles(folder)
        raise UserError(f"{folder}: no *.safetensors weights; save the model with save_pretrained "
                        "(safe_serialization=True)")
    from models.safe_weights import sha256_file

    return {p.name: sha256_file(p) for p in found}


def _read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise UserError(f"{folder}: no config.json; save the model with save_pretrained")
    config = read_json_file(path)
    if not isinstance(config, dict):
        raise UserError(f"{path}: not a transformers config")
    return config


def task_of(config: dict, where) -> str:
    architectures = config.get("architectures") or []
    if any(a.endswith("ForQuestionAnswering") for a in architectures):
        return "qa"
    if any(a.endswith("ForSequenceClassification") for a in architectures):
        return "nli"
    raise UserError(f"{where}: architecture {architectures or 'unknown'} is neither a sequence classifier (NLI) nor "
                    "a question-answering model; infobench benchmarks those two kinds")


# ---- labels -------------------------------------------------------------------------------------

def label_mapping(config: dict, given: tuple[str, ...] | None, where) -> tuple[list[str], dict]:
    """(canonical label name of each id in order, how it was decided) for a sequence classifier."""
    id2label = {int(k): str(v) for k, v in (config.get("id2label") or {}).items()}
    count = len(id2label) or int(config.get("num_labels", 0))
    found = [id2label.get(i, f"LABEL_{i}") for i in range(count)]
    if given is not None:
        if len(given) != count:
            raise UserError(f"{where}: --labels names {len(given)} labels but the model has {count} ({found})")
        names, rule = list(given), "--labels (id order)"
    else:
        names = [canonical_label(name) for name in found]
        if None in names or len(set(names)) != len(names):
            raise UserError(f"{where}: cannot map the model's labels {found} to NLI labels by name; give their "
                            f"meaning in id order with {LABELS_FLAG_HINT}")
        rule = "config.id2label by name (case-insensitive, aliases)"
    if len(set(names)) != len(names):
        raise UserError(f"{where}: --labels repeats a label ({list(given)})")
    if sorted(names) not in (sorted(("entailment", "neutral", "contradiction")), sorted(TWO_WAY)):
        raise UserError(f"{where}: labels {names} are neither 3-way NLI (entailment, neutral, contradiction) nor "
                        "two-way (entailment, not_entailment)")
    return names, {"rule": rule, "model_labels": found, "label_names": names,
                   "scheme": "two-way" if len(names) == 2 else "three-way"}


# ---- the card -----------------------------------------------------------------------------------

def synthesize_card(ref: CheckpointRef) -> tuple[dict, Path]:
    """(card, folder with the files) for a checkpoint without card.json."""
    folder, source = local_folder(ref)
    return _card(ref, folder, json.dumps(source, sort_keys=True), _signature(folder)), folder


def _signature(folder: Path) -> tuple:
    """Sizes and mtimes of the files: a changed file invalidates the cached card (and its hashes)."""
    return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()))


@functools.lru_cache(maxsize=16)
def _card(ref: CheckpointRef, folder: Path, source_json: str, signature: tuple) -> dict:
    hashes = weights_files(folder)  # first: a pickle-only folder is refused before anything else is read
    config = _read_config(folder)
    task = task_of(config, ref.location)
    if task == "qa":
        if ref.labels is not None:
            raise UserError(f"{ref.location}: --labels applies to classifiers; this is a question-answering model")
        labels, mapping = [], None
    else:
        labels, mapping = label_mapping(config, ref.labels, ref.location)
    weights = next(iter(hashes.values())) if len(hashes) == 1 else _combined(hashes)
    stable = hashlib.sha256(f"{weights}|{','.join(labels)}".encode()).hexdigest()[:8]
    source = json.loads(source_json)
    name = source.get("hub_id", "").replace("/", "--") or Path(source["path"]).name
    card = {
        "card_version": 1, "model_id": f"{_safe(name)}-{stable}", "method": "external", "source": source,
        "architecture": (config.get("architectures") or ["?"])[0], "backbone": config.get("model_type", "unknown"),
        "task": task, "label_names": labels, "label_mapping": mapping, "seed": None,
        "hyperparameters": QA_WINDOW if task == "qa" else {"max_length": NLI_MAX_LENGTH},
        "weights_files": hashes, "weights_sha256": weights, "training_data": None,
    }
    card["card_sha256"] = hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()
    return card


def _combined(hashes: dict[str, str]) -> str:
    """One hash over sharded weights: sha256 of the sorted `name sha256` lines."""
    return hashlib.sha256("".join(f"{n} {h}\n" for n, h in sorted(hashes.items())).encode()).hexdigest()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "model"


def two_way_hint(card: dict) -> str:
    """The documented rule for two-way models on three-way sets: refused, never collapsed silently."""
    if sorted(card.get("label_names") or ()) != sorted(TWO_WAY):
        return ""
    return ("; a two-way (entailment / not_entailment) model is scored only on two-way datasets: merging "
            "neutral and contradiction would give numbers no three-way row can be compared with. Declare a "
            "two-way set (docs/adding-a-dataset.md) to score it")
