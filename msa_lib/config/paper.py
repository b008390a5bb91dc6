"""Constants of the paper's method that no setting changes, each with its section.

Section numbers refer to Roswendi (2025). Settings a user may change live in the other config
modules (with the paper's values as defaults); these are facts of the method: what a feature
vector holds, what a model produces.
"""

from __future__ import annotations

AUDIO_VALUES = 29  # §3.2: per frame 13 MFCC + 12 chroma + centroid + rolloff + ZCR + tempo
VISUAL_FEATURES = 65  # §3.3: mouth 5, eyes 3, brows 2, symmetry 2, 53 landmark norms
FACEMESH_LANDMARKS = 468  # §3.3: MediaPipe FaceMesh's 3-D landmarks per frame
TASKS_LANDMARKS = 478  # MediaPipe Tasks' FaceLandmarker: FaceMesh's 468 and 10 iris points
BERT_WIDTH = 768  # §3.4: bert-base-uncased's hidden size, the paper's text vector
# §3.6.2: the adapters' hidden widths per modality (65->512->512->713, 74->256->256->74,
# 768->384->384->300)
ADAPTER_HIDDEN = {"visual": 512, "audio": 256, "text": 384}
# §3.1, §3.6.1: the widths of CMU-MOSEI's pre-extracted features, the model's source spaces
# (OpenFace2, COVAREP, GloVe)
MOSEI_WIDTHS = {"visual": 713, "audio": 74, "text": 300}
