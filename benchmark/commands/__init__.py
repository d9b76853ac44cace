"""One module per CLI command. Each has `register(subparsers)`; heavy imports happen in its handler."""

# The order here is the order in `infobench --help`.
COMMAND_MODULES = ("train", "evaluate", "attack", "leaderboard", "grid", "listing", "doctor", "resources")
