"""The chaos run (`make chaos`): `run` orchestrates the stack and its faults, `load` is its load generator."""
