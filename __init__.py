"""longweave: long-context training data from books, code and agent trajectories.

The repository's top-level folders are this package's sub-packages (`longweave.schemas`,
`longweave.pipeline`, ...): nothing else is installed at top level, so a user's own
`filters.py` or `pipeline/` cannot shadow them.
"""

__version__ = "0.1.0"
