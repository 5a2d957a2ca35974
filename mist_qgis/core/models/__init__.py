"""ONNX models in MIST: self-describing model cards, the runtime, the registry, batch screening
of a store's photos, cached embeddings and few-shot heads trained from analysts' verifications.

Nothing here imports onnxruntime, torch or scikit-learn at module import time: the plugin loads
without them and each function imports what it needs on first use.
"""
