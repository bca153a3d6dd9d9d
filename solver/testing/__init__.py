"""Testing helpers other projects can use: a pytest plugin for YAML cases."""
