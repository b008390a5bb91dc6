"""Running extractors over a corpus: the local process pool, the Ray backend, and what both share.

- :mod:`~msa_lib.extract.run.worker`: one segment through every extractor, on one thread; CPU counts;
- :mod:`~msa_lib.extract.run.local`: the local process pool;
- :mod:`~msa_lib.extract.run.ray`: the same on Ray actors;
- :mod:`~msa_lib.extract.run.corpus`: the whole run (cache, output files, report), either backend.
"""
