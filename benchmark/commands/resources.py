"""`infobench resources`: build the offline paragramcf substitute and show its quality report."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("resources", help="build or inspect offline substitutes (see also `doctor`)",
                                   description="Offline substitutes for TextAttack's downloads.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    build = actions.add_parser("build-embedding", help="build the counter-fitted embedding substitute",
                               description="Counter-fit GloVe 50-d vectors (Mrksic et al. 2016) and write them "
                                           "in TextAttack's paragramcf layout, with a quality report.")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--epochs", type=int, help="passes over the constraints (default 3)")
    build.add_argument("--vocab-size", type=int, help="most frequent GloVe words kept (default 65713, as paragramcf)")
    build.add_argument("--heldout-words", type=int, help="words kept out of the attract set for the report (default 2000)")
    build.add_argument("--output", help="folder to write (default: the substitute folder `infobench doctor` shows)")
    build.add_argument("--if-missing", action="store_true",
                       help="do nothing when a complete substitute is already there (for scripts)")
    build.set_defaults(handler=run_build)
    show = actions.add_parser("show", help="print the substitute's quality report again")
    show.add_argument("--path", help="embedding folder (default: the substitute folder)")
    show.set_defaults(handler=run_show)


def run_build(args) -> int:
    from pathlib import Path

    from benchmark.resources.counterfit import CounterfitConfig, build_substitute
    from benchmark.resources.locate import NEIGHBOURS_FILE
    from benchmark.data import DATA_ENV, data_root
    from benchmark.core.errors import UserError
    from benchmark.resources import SUBSTITUTE_METADATA, substitute_embedding_dir

    output = Path(args.output) if args.output else substitute_embedding_dir()
    if args.if_missing and (output / SUBSTITUTE_METADATA).is_file():
        sys.stdout.write(f"substitute paragramcf already built at {output}\n")
        return 0
    root = data_root()
    if root is None:
        raise UserError(f"{DATA_ENV} is not set: the build needs {NEIGHBOURS_FILE} under it")
    overrides = {name: value for name, value in (("epochs", args.epochs), ("vocab_size", args.vocab_size),
                                                  ("heldout_words", args.heldout_words)) if value is not None}
    config = CounterfitConfig(seed=args.seed, **overrides)
    report = build_substitute(config, output, root / NEIGHBOURS_FILE, quiet=args.quiet)
    sys.stdout.write(f"substitute paragramcf written to {output}\n\n{format_report(report)}")
    return 0


def run_show(args) -> int:
    from benchmark.resources import read_quality_report

    sys.stdout.write(format_report(read_quality_report(args.path)))
    return 0


def format_report(report: dict) -> str:
    from tabulate import tabulate

    precision, probe, cosine = report["precision_at_10"], report["antonym_probe"], report["neighbour_cosine"]
    heldout = precision["glove"]["heldout"]
    rows = [
        [f"precision@10, held-out words ({heldout['words']})", precision["glove"]["heldout"]["precision"],
         precision["counterfitted"]["heldout"]["precision"]],
        ["recall@10, held-out words", precision["glove"]["heldout"]["recall"],
         precision["counterfitted"]["heldout"]["recall"]],
        [f"precision@10, attract-set sample ({precision['glove']['attract_set_sample']['words']})",
         precision["glove"]["attract_set_sample"]["precision"],
         precision["counterfitted"]["attract_set_sample"]["precision"]],
        [f"WordNet antonyms in top 10 of {probe['glove']['probes']} probe words",
         probe["glove"]["antonyms_in_top10"], probe["counterfitted"]["antonyms_in_top10"]],
        ["probe words with an antonym in top 10", probe["glove"]["probes_with_an_antonym"],
         probe["counterfitted"]["probes_with_an_antonym"]],
    ]
    pairs = report.get("antonym_pairs")
    if pairs:  # reports written before this measure existed lack it
        rows += [[f"mean cosine of the {pairs['glove']['pairs']} WordNet antonym pairs",
                  pairs["glove"]["mean_cosine"], pairs["counterfitted"]["mean_cosine"]],
                 ["share of antonym pairs with cosine >= 0.5", pairs["glove"]["share_at_least_0_5"],
                  pairs["counterfitted"]["share_at_least_0_5"]]]
    rows += [[f"median cosine of neighbour {rank.split('_')[1]}", cosine["glove"][rank], cosine["counterfitted"][rank]]
             for rank in cosine["glove"]]
    table = tabulate(rows, headers=["measure", "GloVe 50d", "counter-fitted"])
    constraints = report["constraints"]
    return (f"{table}\n\n{report['vocab_size']} words, {report['dim']}-d; {constraints['attract_pairs']} attract "
            f"pairs, {constraints['repel_pairs']} repel pairs; built in {report['build_seconds']} s "
            f"(seed {report['config']['seed']}, {report['config']['epochs']} epochs)\n"
            "gold neighbours: $INFOBENCH_DATA/embeddings/counterfitted_neighbors.json\n"
            + format_calibration(report.get("calibration")))


def format_calibration(calibration: dict | None) -> str:
    """The word-cosine calibration line (builds from before calibrations were stored have none)."""
    if not calibration or calibration.get("threshold") is None:
        return "word-cosine calibration: none stored (calibrated when the embedding is loaded)\n"
    agreement, raw = calibration["agreement"], calibration["uncalibrated"]
    return (f"word-cosine calibration: real {calibration['reference_threshold']} -> {calibration['threshold']} here "
            f"(size-matching {calibration['size_matching_threshold']}); against the reference lists over "
            f"{calibration['words']} words: P {agreement['precision']} R {agreement['recall']} F1 {agreement['f1']}, "
            f"{agreement['mean_admitted']} words admitted vs {calibration['reference_mean_size']} listed "
            f"(at {raw['threshold']} uncalibrated: F1 {raw['f1']}, {raw['mean_admitted']} admitted)\n")
