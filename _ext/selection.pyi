"""Slice-to-chunk projection (Cython). See _ext/selection.pyx."""
import numpy as np

def project_basic(chunk_shape: np.ndarray, starts: np.ndarray, steps: np.ndarray,
                  lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...
