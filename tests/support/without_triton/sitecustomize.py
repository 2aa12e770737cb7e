"""Put this folder on PYTHONPATH to run Python as if triton were not installed."""

import sys

sys.modules["triton"] = None  # import triton -> ModuleNotFoundError; importlib.util.find_spec -> None
