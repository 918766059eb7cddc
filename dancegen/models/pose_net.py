"""Pose encoder: skeleton images -> a residual added to the UNet's ``conv_in`` output.

Weight names match StableAnimator's ``pose_net.pth``. Pose features reach the UNet through :class:`PoseConvIn`,
which replaces ``unet.conv_in`` with the same weights: the pipeline appends the pose features to the UNet input as
extra channels, and ``PoseConvIn`` convolves the first ``in_channels`` and adds the rest. The UNet's forward stays
diffusers' own, and an input without extra channels behaves exactly like the plain convolution.
"""

from __future__ import annotations

import torch
from torch import nn

# (in, out, kernel, stride) of each conv; every conv is followed by SiLU. Three stride-2 convs: /8 like the VAE.
POSE_CONVS = ((3, 3, 3, 1), (3, 16, 4, 2), (16, 16, 3, 1), (16, 32, 4, 2), (32, 32, 3, 1), (32, 64, 4, 2),
              (64, 64, 3, 1), (64, 128, 3, 1))


class PoseNet(nn.Module):
    """``forward(poses [N, 3, H, W] in [-1, 1]) -> [N, out_channels, H/8, W/8]`` (5-D [B, F, 3, H, W] is flattened)."""

    def __init__(self, out_channels: int = 320):
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out, k, s in POSE_CONVS:
            layers += [nn.Conv2d(c_in, c_out, kernel_size=k, stride=s, padding=1), nn.SiLU()]
        self.conv_layers = nn.Sequential(*layers)
        self.final_proj = nn.Conv2d(128, out_channels, kernel_size=1)
        self.scale = nn.Parameter(torch.tensor([2.0]))

    @property
    def device(self) -> torch.device:  # diffusers pipelines ask every component for these
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def forward(self, poses: torch.Tensor) -> torch.Tensor:
        if poses.ndim == 5:
            poses = poses.flatten(0, 1)  # [B, F, 3, H, W] -> [B*F, 3, H, W]
        return self.final_proj(self.conv_layers(poses)) * self.scale  # [N, C, H/8, W/8]


class PoseConvIn(nn.Conv2d):
    """``conv_in`` that adds trailing input channels (pose features) to its output. Same weights and keys."""

    @classmethod
    def replace(cls, conv: nn.Conv2d) -> PoseConvIn:
        new = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, device="meta")
        new.weight, new.bias = conv.weight, conv.bias  # the same Parameters: no copy, same state_dict keys
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == self.in_channels:
            return super().forward(x)
        # x: [N, in_channels + out_channels, h, w] -> conv(first part) + pose residual
        return super().forward(x[:, : self.in_channels]) + x[:, self.in_channels :]
