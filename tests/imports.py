"""What a fresh interpreter has imported after some code: for the tests that keep start-up light."""

import subprocess
import sys


def loaded_after(code: str) -> set[str]:
    """Top-level modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}; import sys; print(' '.join(m for m in sys.modules if '.' not in m))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())
