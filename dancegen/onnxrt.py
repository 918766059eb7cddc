"""onnxruntime sessions for the ONNX models of the face and pose stages: providers and options in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import WeightsError


def default_providers(cuda: bool = True) -> tuple[str, ...]:
    """CUDA first when asked for and this onnxruntime build offers it, then CPU."""
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    wanted = ("CUDAExecutionProvider", "CPUExecutionProvider") if cuda else ("CPUExecutionProvider",)
    return tuple(p for p in wanted if p in available) or ("CPUExecutionProvider",)


def open_session(path: Path, providers: tuple[str, ...], threads: int = 0, spin_wait: bool = False) -> Any:
    """An ``onnxruntime.InferenceSession`` of ``path`` on the first available of ``providers``.

    threads: intra-op threads (0 lets onnxruntime choose). spin_wait: let idle threads busy-wait; off by default,
    because on a shared 2-core CPU the spinning threads fight the working ones (measured 2x slower under load).
    WeightsError (one line) when onnxruntime, every provider or the file is unusable.
    """
    try:
        import onnxruntime
    except ImportError:
        raise WeightsError("the face and pose models need the onnxruntime package") from None
    available = set(onnxruntime.get_available_providers())
    usable = [p for p in providers if p in available]
    if not usable:
        raise WeightsError(f"none of the onnxruntime providers {list(providers)} is available here "
                           f"(available: {sorted(available)})")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_wait else "0")
    try:
        return onnxruntime.InferenceSession(str(path), sess_options=options, providers=usable)
    except Exception as exc:
        raise WeightsError(f"could not load the model {path}: {str(exc).splitlines()[0]}") from None
