"""`make bench`: each service side by side with its baselines (see bench/cli.py)."""
