"""Scale: a synthetic national dataset (national.py) and the benchmark that measures the app on it (bench.py)."""
