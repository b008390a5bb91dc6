"""The book's studies, one module each: they compute numbers and the verdicts the chapters state.

- :mod:`~msa_lib.experiments.reference`: the published numbers the book compares against;
- :mod:`~msa_lib.experiments.face_width`: the paper's face width against the cheeks' (chapter 3);
- :mod:`~msa_lib.experiments.table1`: the paper's Table 1 beside ridge and late fusion (chapter 5);
- :mod:`~msa_lib.experiments.transfer`: transfer settings scored on a target test fold (chapter 7);
- :mod:`~msa_lib.experiments.text_finetune`: a text encoder fine-tuned per seed (chapter 8);
- :mod:`~msa_lib.experiments.ablation`: the loss ablation with calibration (chapter 8);
- :mod:`~msa_lib.experiments.temporal`: the sequence model against the averaged one (chapter 8);
- :mod:`~msa_lib.experiments.asr`: speech recognition on the clips (chapter 8);
- :mod:`~msa_lib.experiments.fidelity`: the paper's text against its code, measured (chapter 9).

A study module never displays or saves: the chapter does.
"""
