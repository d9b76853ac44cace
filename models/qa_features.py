"""Extractive QA: sliding context windows, span labels, and best-span prediction.

Windows follow Hugging Face's run_qa: question first, context second, "only_second"
truncation to max_length with overflowing windows that share `doc_stride` context tokens
(the tokenizer's `stride`, i.e. the overlap; old run_squad.py used it as the step). A
training window that does not hold its first gold answer points both labels at the CLS
token. Prediction takes the n best start and end logits among the context tokens of
each window, keeps spans with start <= end and at most `max_answer_tokens` tokens, and
answers with the best-scoring span over all windows of the question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_BEST = 20
MAX_ANSWER_TOKENS = 30
MAX_QUESTION_TOKENS = 64  # BERT's run_squad max_query_length: longer questions are cut


@dataclass
class Window:
    example: int  # index of the question in the examples list
    inputs: dict  # input_ids, attention_mask[, token_type_ids] as python lists
    offsets: list  # (start, end) character span in the context for context tokens, None elsewhere
    cls_index: int


def question_budget(tokenizer, max_length: int) -> int:
    room = max_length - tokenizer.num_special_tokens_to_add(pair=True)
    return max(1, min(MAX_QUESTION_TOKENS, room // 2))


def _fit_questions(tokenizer, examples: list[dict], max_length: int) -> tuple[list[str], list[int]]:
    """Questions (leading blanks stripped, as run_qa does) cut to the budget, and their token counts."""
    budget = question_budget(tokenizer, max_length)
    questions = [e["question"].lstrip() for e in examples]
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    fitted, lengths = [], []
    for question, ids, offsets in zip(questions, enc["input_ids"], enc["offset_mapping"]):
        if len(ids) > budget:
            question = question[:offsets[budget - 1][1]]
        fitted.append(question)
        lengths.append(min(len(ids), budget))
    return fitted, lengths


def make_windows(tokenizer, examples: list[dict], max_length: int, doc_stride: int) -> tuple[list[Window], dict]:
    """Windows of every question, in question order, and counts for cards and records.

    The tokenizer requires the overlap to be smaller than the room the question leaves
    for context; where it is not (long questions, small max_length), that question's
    overlap shrinks to half the room (counted as stride_reduced).
    """
    questions, lengths = _fit_questions(tokenizer, examples, max_length)
    specials = tokenizer.num_special_tokens_to_add(pair=True)
    rooms = [max_length - specials - n for n in lengths]
    strides = [doc_stride if doc_stride < room else room // 2 for room in rooms]
    windows: list[Window] = []
    for stride in sorted(set(strides)):
        chosen = [i for i, s in enumerate(strides) if s == stride]
        windows.extend(_tokenize(tokenizer, [questions[i] for i in chosen], [examples[i]["context"] for i in chosen],
                                 chosen, max_length, stride))
    windows.sort(key=lambda w: w.example)  # stable: windows of a question stay in context order
    per_question = np.bincount([w.example for w in windows], minlength=len(examples))
    stats = {"windows": len(windows), "multi_window_questions": int((per_question > 1).sum()),
             "questions_cut": sum(q != e["question"].lstrip() for q, e in zip(questions, examples)),
             "stride_reduced": sum(s < doc_stride for s in strides)}
    return windows, stats


def _tokenize(tokenizer, questions, contexts, example_ids, max_length, stride) -> list[Window]:
    enc = tokenizer(questions, contexts, truncation="only_second", max_length=max_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True)
    keys = [k for k in enc.keys() if k not in ("offset_mapping", "overflow_to_sample_mapping")]
    windows = []
    for i, source in enumerate(enc["overflow_to_sample_mapping"]):
        sequence = enc.sequence_ids(i)
        offsets = [tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][i], sequence)]
        ids = enc["input_ids"][i]
        cls = ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in ids else 0
        windows.append(Window(example_ids[source], {k: enc[k][i] for k in keys}, offsets, cls))
    return windows


def answer_tokens(window: Window, answer_start: int, answer_text: str) -> tuple[int, int] | None:
    """(start, end) token indices of the answer inside the window, or None when the window misses it."""
    start_char, end_char = answer_start, answer_start + len(answer_text)
    context = [i for i, o in enumerate(window.offsets) if o is not None]
    if not context or window.offsets[context[0]][0] > start_char or window.offsets[context[-1]][1] < end_char:
        return None
    start = max(i for i in context if window.offsets[i][0] <= start_char)
    end = min(i for i in context if window.offsets[i][1] >= end_char)
    return start, end


def train_features(tokenizer, examples: list[dict], max_length: int, doc_stride: int) -> tuple[list[dict], dict]:
    """One feature per window, labelled with the first gold answer (CLS when outside the window)."""
    windows, stats = make_windows(tokenizer, examples, max_length, doc_stride)
    features, without = [], 0
    for window in windows:
        answers = examples[window.example]["answers"]
        span = answer_tokens(window, answers["answer_start"][0], answers["text"][0])
        if span is None:
            without += 1
            span = (window.cls_index, window.cls_index)
        features.append({**window.inputs, "start_positions": span[0], "end_positions": span[1]})
    return features, {**stats, "windows_without_answer": without}


def best_span(start_logits: np.ndarray, end_logits: np.ndarray, offsets: list, n_best: int = N_BEST,
              max_answer_tokens: int = MAX_ANSWER_TOKENS) -> tuple[float, int, int] | None:
    """(score, start, end) of the best context span of one window; None when it has no context."""
    context = np.array([o is not None for o in offsets])
    if not context.any():
        return None
    starts_all = np.where(context, start_logits[:len(offsets)], -np.inf)
    ends_all = np.where(context, end_logits[:len(offsets)], -np.inf)
    k = min(n_best, int(context.sum()))
    starts = np.argsort(-starts_all, kind="stable")[:k]
    ends = np.argsort(-ends_all, kind="stable")[:k]
    scores = starts_all[starts][:, None] + ends_all[ends][None, :]
    width = ends[None, :] - starts[:, None]
    scores = np.where((width >= 0) & (width < max_answer_tokens), scores, -np.inf)
    row, col = np.unravel_index(np.argmax(scores), scores.shape)
    if not np.isfinite(scores[row, col]):
        return None
    return float(scores[row, col]), int(starts[row]), int(ends[col])


def predict_answers(model, tokenizer, examples: list[dict], max_length: int, doc_stride: int,
                    batch_size: int) -> tuple[list[str], list[int]]:
    """The predicted answer text of every question, and how many windows each question took."""
    import torch

    from models.inference import length_sorted_batches

    windows, _ = make_windows(tokenizer, examples, max_length, doc_stride)
    best: list[tuple[float, str] | None] = [None] * len(examples)
    device = next(model.parameters()).device
    with torch.inference_mode():
        for batch in length_sorted_batches([len(w.inputs["input_ids"]) for w in windows], batch_size):
            padded = tokenizer.pad([windows[i].inputs for i in batch], padding=True, padding_side="right",
                                   return_tensors="pt")  # offsets count tokens from the left
            out = model(**{k: v.to(device) for k, v in padded.items()})
            starts, ends = out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()
            for row, i in enumerate(batch):
                _keep_best(best, windows[i], examples, best_span(starts[row], ends[row], windows[i].offsets))
    counts = np.bincount([w.example for w in windows], minlength=len(examples)).tolist()
    return [b[1] if b is not None else "" for b in best], counts


def _keep_best(best: list, window: Window, examples: list[dict], span) -> None:
    if span is None:
        return
    score, start, end = span
    current = best[window.example]
    if current is None or score > current[0]:
        context = examples[window.example]["context"]
        best[window.example] = (score, context[window.offsets[start][0]:window.offsets[end][1]])
