"""A trained folder (what dancegen train writes) made in a moment: a tiny model with its trained parts changed."""

from __future__ import annotations

import torch

from dancegen import models
from dancegen.models.trained import part_keys


def trained_tiny(tmp_path, parts=("face_encoder", "identity"), seed=0):
    """A tiny model whose trained parts were changed, written as a trained folder."""
    source = models.resolve_models(models.get_preset("tiny"), tiny_seed=seed)
    changed = models.load_models(source)
    for module_name, keys in part_keys(changed, parts).items():
        params = dict(getattr(changed, module_name).named_parameters())
        with torch.no_grad():
            for key in keys:
                params[key].add_(0.25)
    models.write_trained(tmp_path / "out", changed, parts, source.base(), step=7, settings={"lr": 1e-3})
    return tmp_path / "out", changed
