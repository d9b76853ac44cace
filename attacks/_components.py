"""Drop-in replacements for TextAttack components: slow ones made fast, and one deliberate fix.

PartOfSpeech and WordSwapWordNet keep their parent's semantics exactly (same candidates,
same decisions) and only remove repeated work; the profile that motivated each one is in
its docstring. StopwordModification departs from TextAttack on purpose (case-insensitive).
The classes subclass TextAttack's, so they are built on first use (`components()`),
never at import time.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace


@functools.cache
def components() -> SimpleNamespace:
    from benchmark.resources import import_textattack

    textattack = import_textattack()
    return SimpleNamespace(PartOfSpeech=_part_of_speech_class(textattack),
                           WordSwapWordNet=_wordnet_swap_class(textattack),
                           StopwordModification=_stopword_class(textattack))


@functools.cache
def shared_perceptron_tagger(lang: str = "eng"):
    """One NLTK perceptron tagger per process.

    `nltk.pos_tag` (NLTK >= 3.9) builds a new PerceptronTagger, reading its weights from
    disk, on every call; TextAttack's PartOfSpeech calls it twice per candidate swap, which
    made POS tagging the largest cost of TextFooler outside the model.
    """
    from nltk.tag.perceptron import PerceptronTagger

    return PerceptronTagger(lang=lang) if lang == "rus" else PerceptronTagger()


def _part_of_speech_class(textattack):
    base = textattack.constraints.grammaticality.PartOfSpeech

    class PartOfSpeech(base):
        """TextAttack's PartOfSpeech with one loaded NLTK tagger instead of one per call.

        Same tagger, same tags, same cache; only the repeated model loading is gone.
        """

        def _get_pos(self, before_ctx, word, after_ctx):
            if self.tagger_type != "nltk":
                return super()._get_pos(before_ctx, word, after_ctx)
            from nltk.tag import _pos_tag

            context_words = before_ctx + [word] + after_ctx
            context_key = " ".join(context_words)
            if context_key in self._pos_tag_cache:
                word_list, pos_list = self._pos_tag_cache[context_key]
            else:
                tagger = shared_perceptron_tagger(self.language_nltk)
                word_list, pos_list = zip(*_pos_tag(context_words, self.tagset, tagger, self.language_nltk))
                self._pos_tag_cache[context_key] = (word_list, pos_list)
            assert word in word_list, "POS list not matched with original word list."
            return pos_list[word_list.index(word)]

    return PartOfSpeech


def _wordnet_swap_class(textattack):
    base = textattack.transformations.WordSwapWordNet

    class WordSwapWordNet(base):
        """TextAttack's WordSwapWordNet without a network call, with synonyms cached per word.

        The stock constructor calls nltk.download("omw-1.4") (the Open Multilingual
        Wordnet), which English WordNet does not need and which hangs or fails offline.
        Synonym sets are looked up once per word instead of once per candidate text.
        """

        def __init__(self, language="eng"):
            from nltk.corpus import wordnet

            if language != "eng":  # other languages do need the multilingual data
                super().__init__(language)
                return
            if language not in wordnet.langs():
                raise ValueError(f"Language {language} not one of {wordnet.langs()}")
            self.language = language

        def _get_replacement_words(self, word, random=False):
            return list(_synonyms(self.language, word))

    @functools.lru_cache(maxsize=2**16)
    def _synonyms(language: str, word: str) -> tuple[str, ...]:
        return tuple(base._get_replacement_words(SimpleNamespace(language=language), word))

    return WordSwapWordNet


def _stopword_class(textattack):
    base = textattack.constraints.pre_transformation.StopwordModification

    class StopwordModification(base):
        """Stopwords protected whatever their case: a deliberate departure from TextAttack.

        TextAttack's StopwordModification compares words case-sensitively against lower-case
        lists, so a sentence-initial "A" or "The" is not protected: the committed TextFooler
        logs swap "A" for "gotta" and "every". Every recipe that protects stopwords uses this.
        """

        def __init__(self, stopwords=None, language="english"):
            super().__init__(stopwords=stopwords, language=language)
            self.stopwords = {word.lower() for word in self.stopwords}
            # Shown in repr(attack), so a record (and a resumed log's identity) tells this rule apart.
            self.case_insensitive = True

        def extra_repr_keys(self):
            return [*super().extra_repr_keys(), "case_insensitive"]

        def _get_modifiable_indices(self, current_text):
            return {i for i, word in enumerate(current_text.words) if word.lower() not in self.stopwords}

    return StopwordModification
