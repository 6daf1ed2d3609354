"""Routes to run the sync from an orchestrator (Dagster: `dagster_defs`, needs the extra).

Nothing here is imported by the rest of the package: `pip install -e .[dagster]` brings what
`simplymeet.orchestration.dagster_defs` needs, and without it the CLI never notices.
"""
