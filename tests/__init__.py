"""The tests. Every layer's folder goes on the path first, as Lambda merges the layers (local/layers.py)."""

from local.layers import put_on_path

put_on_path()
