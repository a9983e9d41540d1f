"""Agent trajectories in every common format, read into one schema and rendered as documents
(the `trajectory` source kind)."""

from longweave.sources.trajectories.detect import FORMATS
from longweave.sources.trajectories.reader import TrajectoryReader

__all__ = ["FORMATS", "TrajectoryReader"]
