"""Subcommands of the ``groundup`` command line; each module: register(subparsers), run(args)."""
