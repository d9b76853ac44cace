"""PWWS: greedy WordNet synonym swaps ranked by probability-weighted word saliency.

Same components as TextAttack's PWWSRen2019. Like TextAttack, it leaves out the paper's
named-entity swaps (they need the whole dataset's labels in advance).
"""

from __future__ import annotations

NAME = "pwws"
PAPER = ("Ren et al. 2019, Generating Natural Language Adversarial Examples through Probability Weighted "
         "Word Saliency (ACL), https://aclanthology.org/P19-1103/")
RESOURCES = ("nltk",)


def build(model_wrapper, resources, query_budget=None):
    from attacks._components import components
    from benchmark.resources import import_textattack

    textattack = import_textattack()
    resources.nltk()
    pre = textattack.constraints.pre_transformation
    # WordNet synonyms (TextAttack's WordSwapWordNet; ours skips its needless download).
    transformation = components().WordSwapWordNet()
    constraints = [
        pre.RepeatModification(),
        # NLTK's English stopwords, as TextAttack; departure: matched whatever their case.
        components().StopwordModification(),
        # Departure made for NLI (not in PWWSRen2019): perturb only the hypothesis, keep the
        # premise as is, as TextFooler does. It acts only on premise/hypothesis inputs.
        pre.InputColumnModification(["premise", "hypothesis"], {"premise"}),
    ]
    goal_function = textattack.goal_functions.UntargetedClassification(
        model_wrapper, query_budget=float("inf") if query_budget is None else query_budget)
    # Rank words by softmax(saliency) x best swap gain, then swap greedily in that order.
    search_method = textattack.search_methods.GreedyWordSwapWIR("weighted-saliency")
    return textattack.Attack(goal_function, constraints, transformation, search_method)
