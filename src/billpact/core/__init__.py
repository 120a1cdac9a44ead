"""The pure billing core: contract terms + billable items -> invoice drafts.

Nothing here reads a clock, a file, the environment or a database; dates come
in as arguments. Enforced by import-linter (see pyproject.toml).
"""
