"""`smallretail` command line. Every command prints a one-line JSON summary on success and exits
non-zero with a clear Korean message on failure (contract in ../shared/DESIGN.md)."""

# This module is the command tree, in `--help` order: the top-level commands (run.py, text.py),
# then the command groups (one module each). The shared helpers are in common.py.

from __future__ import annotations

import typer

from smallretail_llm.cli import run, text
from smallretail_llm.cli.catalog import catalog_app
from smallretail_llm.cli.data import data_app
from smallretail_llm.cli.db import db_app
from smallretail_llm.cli.keys import keys_app
from smallretail_llm.cli.model import model_app

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

app.command("demo")(run.demo)
app.command("check")(text.check)
app.command("redact")(text.redact)
app.command("serve")(run.serve)
app.command("train")(run.train_command)
app.command("export")(run.export_command)
app.command("eval")(run.eval_command)
app.command("bench")(run.bench_command)

app.add_typer(catalog_app, name="catalog")
app.add_typer(data_app, name="data")
app.add_typer(keys_app, name="keys")
app.add_typer(model_app, name="model")
app.add_typer(db_app, name="db")
