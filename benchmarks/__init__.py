"""revotp's benchmarks: raw limits of the parts underneath, then revotp end to end, as ratios."""
