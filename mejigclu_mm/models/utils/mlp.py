"""The two-layer perceptron used by the JigClu / MEJigClu heads."""
from torch import nn


def two_layer_mlp(in_channels: int, hid_channels: int, out_channels: int) -> nn.Sequential:
    """Linear(in, hid) - ReLU - Linear(hid, out), without normalisation layers (as in JigClu)."""
    return nn.Sequential(
        nn.Linear(in_channels, hid_channels), nn.ReLU(inplace=True),
        nn.Linear(hid_channels, out_channels))
