"""SQuAD v1.1 JSON (local files) and hub rows -> flat QA examples, validated.

An example is {"id", "title", "context", "question", "answers": {"text": [...],
"answer_start": [...]}}, the hub's schema. Structural problems (missing fields, wrong
types, empty question or context, duplicate ids) are the user's to fix: a UserError names
the file and the JSON path. Answers whose character offset does not point at their text
are dropped and counted in `skipped`; a question left with no answer is skipped and counted.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from benchmark.core.errors import UserError

OFFSET_MISMATCH = "answer offset mismatch"
EMPTY_ANSWER = "empty answer text"
NO_ANSWER = "question without a usable answer"

_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "an integer", float: "a number",
               bool: "a boolean", type(None): "null"}


def _type_name(value) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _field(node, key: str, kind: type, where: str):
    """node[key], checked to be of `kind` (bools are never integers); `where` is "file: json.path"."""
    if not isinstance(node, dict):
        raise UserError(f"{where}: expected an object, got {_type_name(node)}")
    if key not in node:
        raise UserError(f"{where}: missing field {key!r}")
    value = node[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise UserError(f"{where}.{key}: expected {_JSON_TYPES[kind]}, got {_type_name(value)}")
    return value


def _load_json(path: Path):
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: not UTF-8 ({err.reason} at byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: malformed JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    except RecursionError:
        raise UserError(f"{path}: JSON nested too deeply") from None


def read_squad_file(path: Path, skipped: Counter) -> list[dict]:
    """All questions of a SQuAD v1.1 file, in file order."""
    path = Path(path)
    document = _load_json(path)
    if not isinstance(document, dict):
        raise UserError(f"{path}: expected a SQuAD object with a 'data' array, got {_type_name(document)}")
    examples: list[dict] = []
    seen: dict[str, str] = {}
    for a, article in enumerate(_field(document, "data", list, f"{path}: $")):
        at = f"{path}: data[{a}]"
        if not isinstance(article, dict):
            raise UserError(f"{at}: expected an object, got {_type_name(article)}")
        title = article.get("title", "")  # optional in the format; the hub always fills it
        if not isinstance(title, str):
            raise UserError(f"{at}.title: expected a string, got {_type_name(title)}")
        for p, paragraph in enumerate(_field(article, "paragraphs", list, at)):
            examples.extend(_paragraph_examples(paragraph, title, f"{at}.paragraphs[{p}]", seen, skipped))
    return examples


def _paragraph_examples(paragraph, title: str, at: str, seen: dict, skipped: Counter) -> list[dict]:
    context = _text(paragraph, "context", at)
    examples = []
    for q, qa in enumerate(_field(paragraph, "qas", list, at)):
        where = f"{at}.qas[{q}]"
        qid = _text(qa, "id", where)
        if qid in seen:
            raise UserError(f"{where}.id: duplicate question id {qid!r} (first at {seen[qid]})")
        seen[qid] = where
        pairs = []
        for n, answer in enumerate(_field(qa, "answers", list, where)):
            pairs.append((_field(answer, "text", str, f"{where}.answers[{n}]"),
                          _field(answer, "answer_start", int, f"{where}.answers[{n}]")))
        example = _example(qid, title, context, _text(qa, "question", where), pairs, skipped)
        if example is not None:
            examples.append(example)
    return examples


def _text(node, key: str, where: str) -> str:
    value = _field(node, key, str, where)
    if not value.strip():
        raise UserError(f"{where}.{key}: is empty")
    return value


def _example(qid: str, title: str, context: str, question: str, pairs, skipped: Counter) -> dict | None:
    """Keep the answers whose offsets point at their text; None (counted) when none is left."""
    texts, starts = [], []
    for text, start in pairs:
        if not text.strip():
            skipped[EMPTY_ANSWER] += 1
        elif start < 0 or context[start:start + len(text)] != text:
            skipped[OFFSET_MISMATCH] += 1
        else:
            texts.append(text)
            starts.append(start)
    if not texts:
        skipped[NO_ANSWER] += 1
        return None
    return {"id": qid, "title": title, "context": context, "question": question,
            "answers": {"text": texts, "answer_start": starts}}


def squad_example(row: dict, where: str, skipped: Counter) -> dict | None:
    """One hub row (rajpurkar/squad, stanfordnlp/squad_adversarial) -> example, or None when unusable."""
    qid = _text(row, "id", where)
    title = _field(row, "title", str, where)
    answers = _field(row, "answers", dict, where)
    texts = _field(answers, "text", list, f"{where}.answers")
    starts = _field(answers, "answer_start", list, f"{where}.answers")
    if len(texts) != len(starts):
        raise UserError(f"{where}.answers: {len(texts)} texts but {len(starts)} answer_start values")
    for n, (text, start) in enumerate(zip(texts, starts)):
        if not isinstance(text, str) or isinstance(start, bool) or not isinstance(start, int):
            raise UserError(f"{where}.answers[{n}]: expected a string text and an integer answer_start, "
                            f"got {_type_name(text)} and {_type_name(start)}")
    return _example(qid, title, _text(row, "context", where), _text(row, "question", where),
                    list(zip(texts, starts)), skipped)


def original_id(question_id: str) -> str:
    """The original question an adversarial variant was made from (Jia and Liang's id convention)."""
    return question_id.split("-", 1)[0]
