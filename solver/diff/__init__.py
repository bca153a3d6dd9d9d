"""`elig diff`: who is affected by a change of the rules (solver/diff/engine.py), rendered by
solver/diff/render.py; `elig check --against` gates a change on changes.yaml (solver/diff/changes.py)."""
