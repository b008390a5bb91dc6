"""The book's studies, one module each: they compute numbers and the verdicts the chapters state.

- :mod:`~msa_lib.experiments.reference`: the published numbers the book compares against;
- :mod:`~msa_lib.experiments.audio_window`: the paper's 3-s window against the whole (chapter 2);
- :mod:`~msa_lib.experiments.face_width`: the paper's face width against the cheeks' (chapter 3);
- :mod:`~msa_lib.experiments.visual_protocols`: frame protocols, the code's choices (chapter 3);
- :mod:`~msa_lib.experiments.visual_cut`: MOSEI segments cut from their videos (chapter 3);
- :mod:`~msa_lib.experiments.text_encoders`: transcripts encoded, timed and mapped (chapter 4);
- :mod:`~msa_lib.experiments.text_ridge`: a text-only ridge per representation (chapter 4);
- :mod:`~msa_lib.experiments.table1`: the paper's Table 1 beside ridge and late fusion (chapter 5);
- :mod:`~msa_lib.experiments.adapters`: every adapter kind scored where the truth is known (chapter 6);
- :mod:`~msa_lib.experiments.transfer`: transfer settings scored on a target test fold (chapter 7);
- :mod:`~msa_lib.experiments.text_finetune`: a text encoder fine-tuned per seed (chapter 8);
- :mod:`~msa_lib.experiments.ablation`: the loss ablation with calibration (chapter 8);
- :mod:`~msa_lib.experiments.temporal`: the sequence model against the averaged one (chapter 8);
- :mod:`~msa_lib.experiments.asr`: speech recognition on the clips (chapter 8);
- :mod:`~msa_lib.experiments.fidelity`: the paper's text against its code, measured (chapter 9);
- :mod:`~msa_lib.experiments.paper_review`: the paper against itself and its Table 1 (chapters 1, 5);
- :mod:`~msa_lib.experiments.lexicon_transfer`: label-free scorers on MOSI transcripts (chapter 7).

A study module never displays or saves: the chapter does.
"""
