"""Subcommands of `python -m bot`. Each module here exposes `register(subparsers)`.

A registered subcommand sets `func` on its parser: `func(args) -> int` (the exit status).
"""
