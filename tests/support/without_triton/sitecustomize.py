"""Put this folder on PYTHONPATH to run Python as if triton were not installed."""

import sys


class _Block:
    def find_spec(self, name, path=None, target=None):
        if name == "triton" or name.startswith("triton."):
            raise ModuleNotFoundError("blocked")
        return None


sys.meta_path.insert(0, _Block())
