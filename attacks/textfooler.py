"""TextFooler: greedy counter-fitted-embedding synonym swaps ranked by deletion importance.

Same components and thresholds as TextAttack's TextFoolerJin2019; the comments below
are TextAttack's reasons for its departures from the paper, kept with them. Two departures
of ours: stopwords are matched case-insensitively, and on the offline substitute embedding
the word-cosine threshold is translated through its calibration (docs/resources.md).
"""

from __future__ import annotations

NAME = "textfooler"
PAPER = ("Jin et al. 2020, Is BERT Really Robust? A Strong Baseline for Natural Language Attack on Text "
         "Classification and Entailment (AAAI), https://arxiv.org/abs/1907.11932")
RESOURCES = ("word_embedding", "sentence_encoder", "nltk")

# The stopwords of the TextFooler public implementation, as in TextAttack's recipe.
STOPWORDS = frozenset([
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "ain", "all", "almost", "alone",
    "along", "already", "also", "although", "am", "among", "amongst", "an", "and", "another", "any", "anyhow",
    "anyone", "anything", "anyway", "anywhere", "are", "aren", "aren't", "around", "as", "at", "back", "been",
    "before", "beforehand", "behind", "being", "below", "beside", "besides", "between", "beyond", "both", "but",
    "by", "can", "cannot", "could", "couldn", "couldn't", "d", "didn", "didn't", "doesn", "doesn't", "don",
    "don't", "down", "due", "during", "either", "else", "elsewhere", "empty", "enough", "even", "ever",
    "everyone", "everything", "everywhere", "except", "first", "for", "former", "formerly", "from", "hadn",
    "hadn't", "hasn", "hasn't", "haven", "haven't", "he", "hence", "her", "here", "hereafter", "hereby",
    "herein", "hereupon", "hers", "herself", "him", "himself", "his", "how", "however", "hundred", "i", "if",
    "in", "indeed", "into", "is", "isn", "isn't", "it", "it's", "its", "itself", "just", "latter", "latterly",
    "least", "ll", "may", "me", "meanwhile", "mightn", "mightn't", "mine", "more", "moreover", "most", "mostly",
    "must", "mustn", "mustn't", "my", "myself", "namely", "needn", "needn't", "neither", "never",
    "nevertheless", "next", "no", "nobody", "none", "noone", "nor", "not", "nothing", "now", "nowhere", "o",
    "of", "off", "on", "once", "one", "only", "onto", "or", "other", "others", "otherwise", "our", "ours",
    "ourselves", "out", "over", "per", "please", "s", "same", "shan", "shan't", "she", "she's", "should've",
    "shouldn", "shouldn't", "somehow", "something", "sometime", "somewhere", "such", "t", "than", "that",
    "that'll", "the", "their", "theirs", "them", "themselves", "then", "thence", "there", "thereafter",
    "thereby", "therefore", "therein", "thereupon", "these", "they", "this", "those", "through", "throughout",
    "thru", "thus", "to", "too", "toward", "towards", "under", "unless", "until", "up", "upon", "used", "ve",
    "was", "wasn", "wasn't", "we", "were", "weren", "weren't", "what", "whatever", "when", "whence", "whenever",
    "where", "whereafter", "whereas", "whereby", "wherein", "whereupon", "wherever", "whether", "which",
    "while", "whither", "who", "whoever", "whole", "whom", "whose", "why", "with", "within", "without", "won",
    "won't", "would", "wouldn", "wouldn't", "y", "yet", "you", "you'd", "you'll", "you're", "you've", "your",
    "yours", "yourself", "yourselves"
])


def build(model_wrapper, resources, max_candidates=50, min_cos_sim=0.5, use_threshold=0.840845057,
          use_window_size=15, allow_verb_noun_swap=True, query_budget=None, *, use_metric="angular",
          skip_text_shorter_than_window=True):
    """TextFooler; the keyword-only options let the strict variant (textfooler_strict) reuse it."""
    from attacks._components import components
    from benchmark.resources import import_textattack, word_cosine_threshold

    textattack = import_textattack()
    resources.nltk()
    embedding = resources.word_embedding()
    pre = textattack.constraints.pre_transformation
    # Swap words with their 50 nearest neighbours in the counter-fitted embedding.
    transformation = textattack.transformations.WordSwapEmbedding(max_candidates=max_candidates,
                                                                  embedding=embedding)
    constraints = [
        # Don't modify the same word twice or the stopwords of the TextFooler code. Departure
        # from TextAttack: stopwords are matched whatever their case ("A" at a sentence start).
        pre.RepeatModification(),
        components().StopwordModification(stopwords=set(STOPWORDS)),
        # During entailment only the hypothesis is edited; the premise stays the same.
        pre.InputColumnModification(["premise", "hypothesis"], {"premise"}),
        # Minimum word-embedding cosine similarity 0.5 (the paper says 0.7; the released
        # code and experiments use 0.5). The value is in the real counter-fitted space's terms;
        # on the offline substitute it is translated through the substitute's calibration.
        textattack.constraints.semantics.WordEmbeddingDistance(
            embedding=embedding, min_cos_sim=word_cosine_threshold(embedding, min_cos_sim)),
        # Same part of speech (nouns and verbs may swap). Ours loads NLTK's tagger once.
        components().PartOfSpeech(allow_verb_noun_swap=allow_verb_noun_swap),
        # Universal Sentence Encoder, angular similarity >= 0.840845057 on a 15-word window:
        # TextFooler's code forgot to divide the angle by pi, so its 0.5 is 1 - 0.5 / pi.
        resources.sentence_encoder(threshold=use_threshold, metric=use_metric, compare_against_original=False,
                                   window_size=use_window_size,
                                   skip_text_shorter_than_window=skip_text_shorter_than_window),
    ]
    goal_function = textattack.goal_functions.UntargetedClassification(
        model_wrapper, query_budget=float("inf") if query_budget is None else query_budget)
    # Greedy swaps in order of "word importance": the score drop when the word is deleted.
    search_method = textattack.search_methods.GreedyWordSwapWIR(wir_method="delete")
    return textattack.Attack(goal_function, constraints, transformation, search_method)
