"""Reports about a run: the terminal summary and a self-contained HTML summary."""
