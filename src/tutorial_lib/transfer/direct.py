"""Direct transfer: use the source prompt vectors unchanged in the target model (paper Table 1:
the failure the method starts from; no equation number)."""
from __future__ import annotations

import torch


class WidthMismatch(ValueError):
    """Prompt vectors and the target's input embeddings have different widths."""


def direct_transfer(source_prompts: torch.Tensor, target_width: int) -> torch.Tensor:
    """The source prompts [R, m, d] as target prompts; only possible when d equals ``target_width``."""
    width = source_prompts.shape[-1]
    if width != target_width:
        raise WidthMismatch(f"direct transfer needs equal widths: the source prompts have width {width}, the "
                            f"target's input embeddings width {target_width}; use 'discretize', 'projector' "
                            "or 'relative' across widths")
    return source_prompts.detach().clone().float()
