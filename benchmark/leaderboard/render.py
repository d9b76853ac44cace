"""Leaderboard tables to text: Markdown (tabulate), CSV (pandas), a self-contained HTML page, JSON.

Every output is a pure function of the tables, with no clock or path in it, so two runs over the
same records give byte-identical files.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import os
from pathlib import Path

from benchmark.core.atomic import atomic_write_text
from benchmark.leaderboard.tables import IDENTITY_COLUMNS, Column, Table

log = logging.getLogger(__name__)

README_START = "<!-- leaderboard:start -->"
README_END = "<!-- leaderboard:end -->"
MISSING = "–"
LEGEND = ("Percentages with one decimal. acc% = accuracy; *-tf1k-clean = the clean (unperturbed) 1k samples "
          "the TextFooler paper attacked, so their acc% is clean accuracy; for each attack recipe (recipe/dataset): "
          "clean% = accuracy on the attacked sample before the attack, AuA% = accuracy under attack, "
          "AuA% validity-filtered = AuA counting every success an offline validity flag marks as a failed attack "
          "(docs/validity.md; computed from the log for records written before the flags), "
          "Suc% = attack success rate, queries = average model queries per attacked example, "
          "pert% = average share of words perturbed; QA: EM/F1 on SQuAD dev and Adversarial SQuAD. "
          "\"attack 1a2b3c\" in a header: the digest of the attack's full definition (every constraint with its "
          "effective threshold, and the resources used), shown where records of one recipe differ in it, "
          "e.g. before and after a constraint was fixed; each record's evaluation.recipe.attack_repr spells it out. "
          "In parentheses: the 95% interval (Wilson for rates, seeded bootstrap for means such as F1 and queries). "
          "A row merging several seeds shows the mean ± sd over its seeds and a two-stage bootstrap interval "
          "(seeds, then examples within each seed); a cell only one of its seeds measured shows that seed's interval. Bold: the column's best and every row "
          "not significantly below it (exact McNemar on the same examples, else Fisher's exact test; "
          "F1 by paired permutation; Holm-corrected per column, alpha 0.05): bold cells read as ties.")
REPORTED_NOTE = ("Reported, not measured: numbers copied from the sources named in each row "
                 "(results/reported/*.json). They are never mixed into the measured tables or the plots.")
EMPTY_NOTE = ("No measured records yet: `infobench evaluate` and `infobench attack` write them to "
              "results/records/, then rerun `infobench leaderboard`.")


def format_cell(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if unit == "fraction":
        return f"{value * 100:.1f}"
    if unit in ("percent", "number"):
        return f"{value:.1f}"
    return str(value)


def stat_cell(value, column: Column, stats, bold=("**", "**")) -> str:
    """The value with its interval ("77.8 (77.0–78.6)") or seed spread ("77.8 ± 0.4 sd"), bold when tied."""
    shown = format_cell(value, column.unit)
    if stats is None or shown == MISSING:
        return shown
    if stats.tie:
        shown = f"{bold[0]}{shown}{bold[1]}"
    scale = 100.0 if column.unit == "fraction" else 1.0
    if stats.seeds is not None:
        spread = f" ± {stats.sd * scale:.1f} sd" if stats.sd is not None else ""
        seeds = f"{stats.seeds} seed{'s' if stats.seeds > 1 else ''}"
        if stats.interval is not None:
            low, high = stats.interval
            return f"{shown}{spread} ({low * scale:.1f}–{high * scale:.1f}; {seeds})"
        return f"{shown}{spread} ({seeds})"
    if stats.interval is not None:
        low, high = stats.interval
        return f"{shown} ({low * scale:.1f}–{high * scale:.1f})"
    return shown


def shown_columns(table: Table) -> list[Column]:
    """Columns a reader sees: a per-task table does not repeat its task on every row (CSV keeps it)."""
    return [c for c in table.columns if not (c.key == "task" and table.slug != "reported")]


def _display_rows(table: Table) -> list[list[str]]:
    columns = shown_columns(table)
    return [[stat_cell(value, column, table.cells.get((position, column.key))) for value, column in zip(row, columns)]
            for position, row in enumerate(table.frame[[c.key for c in columns]].itertuples(index=False, name=None))]


def markdown_text(text) -> str:
    """A field from a record, safe inside Markdown: no HTML (so no <script>), no table-breaking | or newline."""
    flat = " ".join(str(text).split())
    return html.escape(flat, quote=False).replace("\\", "\\\\").replace("|", "\\|")


def markdown_table(table: Table) -> str:
    from tabulate import tabulate

    rows = [[markdown_text(cell) for cell in row] for row in _display_rows(table)]
    # disable_numparse: cells are already formatted; tabulate must not re-format "75.0" as "75".
    return tabulate(rows, headers=[markdown_text(c.header) for c in shown_columns(table)], tablefmt="github",
                    disable_numparse=True)


GROUP_TITLES = {-1: "Transfer sets (made against another model: the primary robustness endpoint)",
                0: "Clean test sets", 1: "ANLI"}


def column_groups(table: Table) -> list[tuple[str, Table]]:
    """A wide measured table cut, for Markdown, into one table per column group (transfer sets, clean
    sets, ANLI, each recipe on each dataset), every part with the identity columns and only the rows
    that have a value in it. The HTML page and the CSV keep the one wide table."""
    metric_columns = [c for c in table.columns if c not in IDENTITY_COLUMNS]
    groups: dict[tuple, list[Column]] = {}
    for column in metric_columns:
        groups.setdefault(_group_of(column), []).append(column)
    if len(groups) <= 1 or len(metric_columns) <= 12:
        return [("", table)]
    return [(_group_title(key, columns), part) for key, columns in groups.items()
            if len((part := _table_part(table, columns)).frame)]


def _group_of(column: Column) -> tuple:
    kind = column.order[0] if column.order else 0
    return (kind, *column.order[1:4]) if kind == 3 else (kind,)  # attacks: one group per recipe, dataset, variant


def _group_title(key: tuple, columns: list[Column]) -> str:
    if key[0] == 3:  # "pwws/snli-test (n=200) clean%" -> "Under attack: pwws/snli-test (n=200)"
        return "Under attack: " + columns[0].header.rsplit(" ", 1)[0]
    return GROUP_TITLES.get(key[0], "Other columns")


def _table_part(table: Table, columns: list[Column]) -> Table:
    keys = [c.key for c in columns]
    keep = [position for position in range(len(table.frame))
            if any(_has_value(table.frame.iloc[position][key]) for key in keys)]
    identity = [c for c in table.columns if c in IDENTITY_COLUMNS]
    frame = table.frame.iloc[keep][[c.key for c in identity] + keys].reset_index(drop=True)
    cells = {(new, key): stats for new, old in enumerate(keep) for key in keys
             if (stats := table.cells.get((old, key))) is not None}
    return Table(table.slug, table.title, identity + columns, frame, cells)


def _has_value(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def markdown_body(measured: list[Table], reported: Table, level: int = 2, plots: dict | None = None) -> str:
    """The tables section shared by leaderboard.md and the README (headings at `level`)."""
    mark = "#" * level
    parts = [LEGEND]
    if not measured:
        parts.append(EMPTY_NOTE)
    for table in measured:
        parts.append(f"{mark} {markdown_text(table.title)}")
        for heading, part in column_groups(table):
            parts += [f"{mark}# {markdown_text(heading)}", markdown_table(part)] if heading else [markdown_table(part)]
        if table.single_seeds is not None:
            parts.append("Rows marked `-s*` merge several seeds; each seed's own row is in the HTML page and the CSV.")
    for title, link in (plots or {}).items():
        parts.append(f"![{markdown_text(title)}]({link})")
    parts += [f"{mark} {reported.title}", REPORTED_NOTE]
    parts.append(markdown_table(reported) if len(reported.frame) else "No reported rows.")
    return "\n\n".join(parts) + "\n"


def markdown_page(measured: list[Table], reported: Table, plots: dict | None = None) -> str:
    header = ("# infobench leaderboard\n\nGenerated by `infobench leaderboard` from the result records; "
              "do not edit by hand.\n\n")
    return header + markdown_body(measured, reported, level=2, plots=plots)


def csv_text(tables: list[Table]) -> str:
    """Raw numbers as the records hold them (fractions stay fractions), one CSV over all tables."""
    import pandas as pd

    if not tables:
        return pd.DataFrame(columns=[c.key for c in IDENTITY_COLUMNS]).to_csv(index=False, lineterminator="\n")
    frames = [(table.single_seeds or table).frame for table in tables]  # raw numbers: one row per checkpoint
    combined = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    return combined.to_csv(index=False, lineterminator="\n")


def json_text(measured: list[Table], reported: Table, superseded, skipped) -> str:
    payload = {
        "schema_version": 1,
        "measured": [_table_json(table) for table in measured],
        "reported": _table_json(reported),
        "superseded": [{"file": loser, "superseded_by": winner} for loser, winner in superseded],
        "skipped_invalid": [{"file": Path(path).name, "why": why} for path, why in skipped],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _table_json(table: Table) -> dict:
    def clean(value):
        return None if isinstance(value, float) and math.isnan(value) else value

    payload = {"slug": table.slug, "title": table.title,
               "columns": [{"key": c.key, "header": c.header, "unit": c.unit} for c in table.columns],
               "rows": [{c.key: clean(v) for c, v in zip(table.columns, row)}
                        for row in table.frame.itertuples(index=False, name=None)]}
    if table.cells:  # what each cell says besides its value, keyed like rows
        payload["cells"] = [{key: _cell_json(stats) for (position, key), stats in sorted(table.cells.items())
                             if position == index} for index in range(len(table.frame))]
    if table.single_seeds is not None:
        payload["single_seeds"] = _table_json(table.single_seeds)
    return payload


def _cell_json(stats) -> dict:
    out = {"tie": stats.tie}
    if stats.interval is not None:
        out.update(low=stats.interval[0], high=stats.interval[1], n=stats.n, method=stats.method)
    if stats.seeds is not None:
        out.update(sd=stats.sd, seeds=stats.seeds)
    return out


# ---------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0 2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; }
th { background: #f0f0f0; cursor: pointer; user-select: none; position: sticky; top: 0; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
table.measured td { white-space: nowrap; }
img { max-width: 100%; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.reported { border: 2px dashed #b58900; }
table.reported caption { color: #b58900; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
"""

# Sorting: a click on a header sorts by that column (numbers numerically, missing cells last),
# clicking again reverses. "#sort=<table>:<column key>:<asc|desc>" clicks the header on load,
# so a link (or a headless browser test) can open the page already sorted.
_JS = """
function cellValue(cell) {
  var raw = cell.getAttribute("data-value");
  if (raw === null || raw === "") return null;
  var number = Number(raw);
  return isNaN(number) ? raw : number;
}
function compareValues(a, b) {
  if (typeof a === typeof b) return a < b ? -1 : (a > b ? 1 : 0);
  return typeof a === "number" ? -1 : 1;
}
function sortByHeader(th) {
  var table = th.closest("table"), body = table.tBodies[0];
  var column = Array.prototype.indexOf.call(th.parentNode.cells, th);
  var direction = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
  var sign = direction === "ascending" ? 1 : -1;
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (r1, r2) {
    var a = cellValue(r1.cells[column]), b = cellValue(r2.cells[column]);
    if (a === null || b === null) {
      if (a === null && b === null) return Number(r1.dataset.index) - Number(r2.dataset.index);
      return a === null ? 1 : -1;
    }
    return sign * compareValues(a, b) || Number(r1.dataset.index) - Number(r2.dataset.index);
  });
  rows.forEach(function (row) { body.appendChild(row); });
  Array.prototype.forEach.call(th.parentNode.cells, function (other) { other.removeAttribute("aria-sort"); });
  th.setAttribute("aria-sort", direction);
}
function applyHashSort() {
  var match = /^#sort=([^:]+):(.+):(asc|desc)$/.exec(decodeURIComponent(location.hash));
  if (!match) return;
  var table = document.getElementById("table-" + match[1]);
  if (!table) return;
  var wanted = match[3] === "asc" ? "ascending" : "descending";
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    if (th.getAttribute("data-key") !== match[2]) return;
    for (var i = 0; i < 2 && th.getAttribute("aria-sort") !== wanted; i++) th.click();
  });
}
Array.prototype.forEach.call(document.querySelectorAll("th[data-key]"), function (th) {
  th.addEventListener("click", function () { sortByHeader(th); });
});
window.addEventListener("hashchange", applyHashSort);
applyHashSort();
"""


def html_page(measured: list[Table], reported: Table, images: dict[str, bytes] | None = None) -> str:
    """One file that loads nothing: inline CSS and JS, plots embedded as data: URIs."""
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>infobench leaderboard</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
             "<h1>infobench leaderboard</h1>",
             "<p>Generated by <code>infobench leaderboard</code> from the result records. "
             "Click a column header to sort.</p>", f"<p>{html.escape(LEGEND)}</p>"]
    if not measured:
        parts.append(f'<p class="empty">{html.escape(EMPTY_NOTE)}</p>')
    for table in measured:
        parts += [f"<h2>{html.escape(table.title)}</h2>", _html_table(table)]
        if table.single_seeds is not None:
            parts += [f'<h3 id="seeds-{html.escape(table.slug)}">{html.escape(table.single_seeds.title)}</h3>',
                      _html_table(table.single_seeds)]
    parts += [f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,'
              f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(title)}</figcaption></figure>'
              for title, png in (images or {}).items()]
    parts += [f"<h2>{html.escape(reported.title)}</h2>", f"<p>{html.escape(REPORTED_NOTE)}</p>",
              _html_table(reported, css_class="reported")]
    parts += [f"<script>{_JS}</script>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _html_table(table: Table, css_class: str = "measured") -> str:
    columns = shown_columns(table)
    head = "".join(f'<th data-key="{html.escape(c.key)}" title="{html.escape(c.key)}">{html.escape(c.header)}</th>'
                   for c in columns)
    body = []
    for index, row in enumerate(table.frame[[c.key for c in columns]].itertuples(index=False, name=None)):
        cells = "".join(_html_cell(value, column, table.cells.get((index, column.key)),
                                   table if table.single_seeds is not None else None)
                        for value, column in zip(row, columns))
        body.append(f'<tr data-index="{index}">{cells}</tr>')
    return (f'<table id="table-{html.escape(table.slug)}" class="{css_class}">'
            f"<caption>{html.escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>\n" + "\n".join(body) + "\n</tbody></table>")


def _html_cell(value, column: Column, stats=None, merged_table: Table | None = None) -> str:
    shown = html.escape(stat_cell(value, column, stats, bold=("\0", "\1"))).replace("\0", "<strong>")
    shown = shown.replace("\1", "</strong>")
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    raw = "" if missing else html.escape(repr(value) if column.unit != "text" else str(value))
    if merged_table is not None and column.key == "checkpoint" and str(value).endswith("-s*"):
        shown = f'<a href="#seeds-{html.escape(merged_table.slug)}" title="single seeds">{shown}</a>'
    if stats is not None and stats.extra.get("href"):  # an attack cell: the run's examples page
        shown = f'<a href="{html.escape(stats.extra["href"])}" title="examples of this run">{shown}</a>'
    css = ' class="num"' if column.unit not in ("text",) else ""
    title = f' title="n={stats.n}, 95% interval by {html.escape(stats.method)}"' if stats and stats.method else ""
    return f'<td{css}{title} data-value="{raw}">{shown}</td>'


# ---------------------------------------------------------------- README


def refresh_readme(readme: Path, section: str) -> bool:
    """Replace the text between the leaderboard markers; True when the file changed."""
    readme = Path(readme)
    if not readme.is_file():
        log.info("no README at %s: nothing to refresh", readme)
        return False
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < 0:
        log.info("%s has no leaderboard markers (%s ... %s): README left as it is", readme,
                 README_START, README_END)
        return False
    if end < start or text.count(README_START) > 1 or text.count(README_END) > 1:
        log.warning("%s: leaderboard markers are out of order or repeated: README left as it is", readme)
        return False
    updated = text[:start + len(README_START)] + "\n" + section + text[end:]
    if updated == text:
        return False
    atomic_write_text(readme, updated)
    return True


def relative_link(target: Path, start_dir: Path) -> str:
    """A POSIX relative link from a page in `start_dir` to `target` (Markdown and HTML want '/')."""
    return Path(os.path.relpath(Path(target).resolve(), Path(start_dir).resolve())).as_posix()
