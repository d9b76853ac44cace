"""External resources: where each is looked for and what to say when it is missing (locate.py),
and the offline counter-fitted embedding substitute (counterfit.py).

The locator's public names are re-exported here: `from benchmark.resources import import_textattack`.
"""

from benchmark.resources.locate import (DISTANCE_CACHES, EMBEDDING_HOW_TO_GET, EMBEDDING_MATRIX,
                                        NLTK_HOW_TO_GET, NLTK_RESOURCES, NN_MATRIX, QUALITY_REPORT,
                                        SUBSTITUTE_METADATA, TEXTATTACK_MARKER, TFHUB_USE_URLS,
                                        WORD_LIST_JSON, WORD_LIST_PICKLE, all_resources, backbone_status,
                                        CachedSentenceEncoder, datasets_status, embedding_status,
                                        import_textattack, infobench_home, missing_nltk,
                                        nltk_downloads_blocked, nltk_status, read_embedding_folder,
                                        read_quality_report, real_embedding_dir, require_nltk_data,
                                        ResourceInfo, sentence_encoder, sentence_encoder_status,
                                        substitute_embedding_dir, substitute_sentence_encoder,
                                        textattack_cache_dir, word_embedding)
