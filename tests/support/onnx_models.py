"""Stand-in ONNX models (no real DWPose weights exist here): constant outputs the real onnxruntime path runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def constant_model(path, in_name, in_shape, outputs):
    """An ONNX model that ignores its input and returns constant arrays (stand-in for the DWPose weights)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, outs = [], []
    for name, value in outputs.items():
        nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(
            value.astype(np.float32), name=name + "_value")))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape)))
    graph = helper.make_graph(nodes, "constant", [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)],
                              outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def stand_in_dwpose(folder: Path, confidence: float = 0.7) -> Path:
    """DWPose's two files in ``folder/DWPose``: the detector finds no person (so the whole picture is the box) and
    the pose model puts every keypoint at the crop's centre with ``confidence``. -> the checkpoints folder."""
    from dancegen.pose.detect import DETECTOR_FILE, POSE_FILE

    dwpose = folder / "DWPose"
    dwpose.mkdir(parents=True, exist_ok=True)
    raw = np.zeros((1, 8400, 85))  # every objectness 0: no box passes
    constant_model(dwpose / DETECTOR_FILE, "images", [1, 3, 640, 640], {"output": raw})
    sx, sy = np.zeros((1, 133, 576)), np.zeros((1, 133, 768))
    sx[0, :, 288], sy[0, :, 384] = confidence + 0.1, confidence
    constant_model(dwpose / POSE_FILE, "input", [1, 3, 384, 288], {"simcc_x": sx, "simcc_y": sy})
    return folder
