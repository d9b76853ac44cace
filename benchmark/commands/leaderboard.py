"""`infobench leaderboard`: regenerate robust-accuracy tables, page and plots from result records."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from benchmark.commands import _types

log = logging.getLogger(__name__)

FORMATS = ("md", "csv", "html", "json")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "leaderboard", help="regenerate leaderboard tables, page and plots from results/records",
        description="Read results/records/*.json (measured) and results/reported/*.json (from the "
                    "literature, kept apart) and write leaderboard.md/.csv/.html and plots, or print one "
                    "format with --format. Invalid files stop the command unless --skip-invalid.")
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="results folder holding records/ and reported/ (default: results)")
    parser.add_argument("--out", type=_types.folder, default=None,
                        help="where leaderboard files and plots/ go (default: the --results folder)")
    parser.add_argument("--task", help="only checkpoints of this task (nli, qa)")
    parser.add_argument("--backbone", help="only checkpoints with this backbone (e.g. minilm-l6)")
    parser.add_argument("--method", help="only checkpoints trained with this method (standard, freelb, infobert)")
    parser.add_argument("--format", choices=FORMATS,
                        help="print this format to stdout instead of writing files")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="warn about malformed or foreign files and go on without them")
    parser.add_argument("--readme", type=Path, default=None,
                        help="README whose leaderboard markers are refreshed (default: README.md beside the "
                             "--results folder, so a leaderboard of another folder never rewrites this project's)")
    parser.add_argument("--no-plots", action="store_true", help="do not draw the PNG plots")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from benchmark.core.errors import UserError
    from benchmark.leaderboard import render, tables as leaderboard

    if args.readme is None:  # the project's README is the one beside its results folder
        args.readme = args.results.resolve().parent / "README.md"  # resolved: `--results .` has a parent too
    found = leaderboard.load_results(args.results)
    if found.invalid:
        listing = "\n".join(f"  {path}: {why}" for path, why in found.invalid)
        if not args.skip_invalid:
            raise UserError(f"{len(found.invalid)} invalid file(s) under {args.results}:\n{listing}\n"
                            "Fix or remove them, or pass --skip-invalid to go on without them.")
        log.warning("skipping %d invalid file(s):\n%s", len(found.invalid), listing)
    for loser, winner in found.superseded:
        log.warning("duplicate evaluation: %s is superseded by the newer %s", loser, winner)
    filtered = args.task or args.backbone or args.method
    chosen = leaderboard.select(found, task=args.task, backbone=args.backbone, method=args.method)
    if filtered and not chosen.records:
        log.info("no measured record matches the filters")
    measured = leaderboard.measured_tables(chosen.records)
    reported = leaderboard.reported_table(chosen.reported)
    if args.format:
        sys.stdout.write(_render_one(args.format, measured, reported, chosen, render))
        return 0
    _write_all(args, chosen, measured, reported, filtered, render)
    return 0


def _render_one(fmt: str, measured, reported, chosen, render) -> str:
    if fmt == "md":
        return render.markdown_page(measured, reported) + _transfer_md(chosen.records)
    if fmt == "csv":
        return render.csv_text(measured)
    if fmt == "html":
        return render.html_page(measured, reported)
    return render.json_text(measured, reported, chosen.superseded, chosen.invalid)


OUTPUT_FILES = ("leaderboard.md", "leaderboard.csv", "leaderboard_reported.csv", "leaderboard.html")


def _write_all(args, chosen, measured, reported, filtered, render) -> None:
    from benchmark.core.atomic import exclusive_writer, remove_stale_temps

    out = args.out or args.results
    with exclusive_writer(out / "leaderboard.md"):  # one leaderboard writer per output folder
        # Temporary files a killed run left behind (only ours: the lock is held).
        stale = remove_stale_temps(out, list(OUTPUT_FILES)) + remove_stale_temps(out / "plots", ["*.png"])
        stale += remove_stale_temps(args.readme.parent, [args.readme.name])
        for path in stale:
            log.info("removed %s, left by an interrupted run", path)
        _write_files(args, out, chosen, measured, reported, filtered, render)


def _prune_plots(folder: Path, drawn: set) -> None:
    """Remove curve and transfer plots no record draws any more: their names carry the variant
    (sample, attack definition), so a changed grouping would otherwise leave stale images behind."""
    for path in sorted([*folder.glob("curves-*.png"), *folder.glob("transfer-*.png")]):
        if path not in drawn:
            path.unlink()
            log.info("removed %s: no record draws it any more", path)


def _write_files(args, out, chosen, measured, reported, filtered, render) -> None:
    from benchmark.core.atomic import atomic_write_text
    from benchmark.leaderboard.examples_page import link_attack_cells, write_examples_pages

    plots = {}
    if not args.no_plots:
        from benchmark.leaderboard.plots import write_plots
        from benchmark.leaderboard.transfer import write_plots as write_transfer_plots

        drawn = write_plots(chosen.records, out / "plots")
        drawn.update(write_transfer_plots(chosen.records, out / "plots"))
        plots = {title: render.relative_link(path, out) for title, path in drawn.items()}
        if not filtered:
            _prune_plots(out / "plots", set(drawn.values()))
    atomic_write_text(out / "leaderboard.md", render.markdown_page(measured, reported, plots)
                      + _transfer_md(chosen.records))
    atomic_write_text(out / "leaderboard.csv", render.csv_text(measured))
    atomic_write_text(out / "leaderboard_reported.csv", render.csv_text([reported]))
    images = {title: (out / link).read_bytes() for title, link in plots.items()}
    links = write_examples_pages(chosen.records, out, prune=not filtered)
    link_attack_cells(measured, links)
    atomic_write_text(out / "leaderboard.html", render.html_page(measured, reported, images))
    log.info("wrote %s/leaderboard.{md,csv,html}, leaderboard_reported.csv and %d examples page(s): "
             "%d measured record(s), %d reported row(s)%s", out, len(links), len(chosen.records), len(chosen.reported),
             ", plots in plots/" if plots else "")
    if filtered:
        log.info("filtered view: README left as it is (it shows the whole leaderboard)")
        return
    readme_dir = args.readme.parent
    readme_plots = {title: render.relative_link(out / link, readme_dir) for title, link in plots.items()}
    page = render.relative_link(out / "leaderboard.html", readme_dir)
    section = (f"Generated by `infobench leaderboard`; sortable page: [{page}]({page}).\n\n"
               + render.markdown_body(measured, reported, level=3, plots=readme_plots)
               + _transfer_md(chosen.records, level=3))
    if render.refresh_readme(args.readme, section):
        log.info("refreshed the leaderboard section of %s", args.readme)


def _transfer_md(records, level: int = 2) -> str:
    from benchmark.leaderboard.transfer import matrix_markdown

    text = matrix_markdown(records, level)
    return "\n" + text if text else ""
