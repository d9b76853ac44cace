"""The model zoo: backbones, task heads, training methods (standard, freelb, infobert)."""
