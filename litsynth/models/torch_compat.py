"""Make the CUDA-built torchvision 0.28 importable on CPU-only torch, once, in one place.

torchvision registers its C++ ops against schemas it expects ``torchvision::nms`` and
``torchvision::qnms`` to have; on a CPU torch wheel those schemas do not exist and
``import torchvision`` raises ``operator torchvision::nms does not exist``. transformers imports
torchvision whenever it is installed, so sentence-transformers breaks too. Defining the two
schemas first lets torchvision import; ``torchvision.transforms`` (all open_clip needs) works,
detection ops do not.
"""

from __future__ import annotations

import sys

_patched = False


def ensure_torchvision_importable() -> None:
    global _patched
    if _patched or "torchvision" in sys.modules:
        _patched = True
        return
    import torch

    try:
        import torchvision  # noqa: F401  (a matching CPU build imports cleanly)
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        library = torch.library.Library("torchvision", "DEF")  # noqa: F841 kept alive below
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        globals()["_library"] = library
        import torchvision  # noqa: F401,F811
    _patched = True
