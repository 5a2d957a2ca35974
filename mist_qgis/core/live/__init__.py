"""Live monitoring: watched sources, the incremental pipeline and alerts."""
