"""One module per ``kb`` subcommand; see ``tooling.cli``."""
