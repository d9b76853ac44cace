"""The checkpoint argument every scoring command shares: a folder or hub id, plus --revision/--labels."""

from __future__ import annotations

CHECKPOINT_HELP = ("an infobench checkpoint, any folder saved with transformers' save_pretrained (safetensors), "
                   "or a hub id org/name")


def add_checkpoint_arguments(parser) -> None:
    parser.add_argument("checkpoint", help=CHECKPOINT_HELP)
    parser.add_argument("--revision", help="hub id only: branch, tag or commit to fetch (default: main)")
    parser.add_argument("--labels", metavar="NAMES",
                        help="meaning of the model's class ids in order, for models whose config says LABEL_0.. "
                             "(e.g. entailment,neutral,contradiction); see docs/label-mapping.md")


def checkpoint_ref(args):
    from models.external import CheckpointRef, parse_labels

    return CheckpointRef(args.checkpoint, revision=args.revision, labels=parse_labels(args.labels))
