"""The subcommands of `elig`, one module per group; solver/cli.py wires them to argparse."""
