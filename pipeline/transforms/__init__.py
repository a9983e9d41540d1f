"""The Beam shell of every stage: composite transforms that only wire the pure core."""
