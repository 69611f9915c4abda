"""The cloud seam for a cluster someone else runs: no cloud resources, only how to reach what exists."""
