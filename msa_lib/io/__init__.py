"""Files: atomic writes, strict JSON, the result cache, model checkpoints, and where things are.

- :mod:`~msa_lib.io.atomic`: write to a temp file, rename into place on success;
- :mod:`~msa_lib.io.jsonio`: strict JSON (NaN as null);
- :mod:`~msa_lib.io.paths`: the project folder and files inside installed packages.
"""
