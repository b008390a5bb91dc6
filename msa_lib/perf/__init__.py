"""What the library costs: speed ratios against baselines, corpus estimates, training time, the machine.

- :mod:`~msa_lib.perf.speed`: ours-against-baseline ratio rows (``speed_ratios.csv``);
- :mod:`~msa_lib.perf.baselines`: the plain baselines of those ratios (the paper's recipes);
- :mod:`~msa_lib.perf.measure`: how the extraction benchmark times, interleaves and measures;
- :mod:`~msa_lib.perf.costs`: extraction benchmark results and corpus-scale estimates;
- :mod:`~msa_lib.perf.timing`: seconds per seed-epoch against the GEMM + Adam floor;
- :mod:`~msa_lib.perf.machine`: the description of the machine a measurement ran on.
"""
