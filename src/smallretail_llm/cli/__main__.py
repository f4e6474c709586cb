"""`python -m smallretail_llm.cli …`: the same app as the `smallretail` script, for launchers
that take a module rather than a script path (e.g. `accelerate launch -m`)."""

from smallretail_llm.cli import app

app()
