"""The report: per-shard statistics (polars/numpy) and their JSON and HTML rendering."""
