"""`infobench recipes`: every attack recipe, its paper and resources, and whether they are present."""

from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("recipes", help="list attack recipes and whether their resources are present")
    parser.add_argument("--recipes-dir", action="append", default=[], metavar="DIR",
                        help="extra directory of recipe modules (also: INFOBENCH_RECIPES_PATH); its files are "
                             "Python code and listing imports (runs) every one: use only folders you trust")
    parser.add_argument("--textattack", action="store_true",
                        help="also list TextAttack's own recipes (usable as textattack:NAME; imports textattack)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    from tabulate import tabulate

    from attacks.registry import discover, resource_status, textattack_recipe_names

    registry = discover(args.recipes_dir)
    status = {}
    rows = []
    for name in registry:
        recipe = registry.get(name)
        for resource in recipe.resources:
            if resource not in status:
                status[resource] = resource_status(resource)
        present = all(status[r].kind != "missing" for r in recipe.resources)
        described = ", ".join(f"{r} ({status[r].kind})" for r in recipe.resources) or "-"
        rows.append([name, "yes" if present else "NO", described, recipe.paper, recipe.source])
    sys.stdout.write(tabulate(rows, headers=["recipe", "ready", "resources", "paper", "defined in"],
                              maxcolwidths=[None, None, 40, 60, None]) + "\n")
    for info in status.values():
        if info.kind == "missing":
            sys.stdout.write(f"\n{info.name} is missing: {info.detail}\n  fix: {info.how_to_get}\n")
    if args.textattack:
        names = ", ".join(f"textattack:{n}" for n in textattack_recipe_names())
        sys.stdout.write(f"\nTextAttack recipes (built as TextAttack builds them; they fetch their own resources):\n"
                         f"{names}\n")
    else:
        sys.stdout.write("\nAny TextAttack recipe also works as textattack:NAME (list them: "
                         "`infobench recipes --textattack`).\n")
    return 0
