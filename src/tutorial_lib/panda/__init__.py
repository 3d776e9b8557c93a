"""PANDA (Zhong et al., TKDE 2024): prompt transfer across tasks, a transferability metric, knowledge
distillation and multi-task fusion. Tasks are LAMA relations of one masked LM.

The pieces, in the paper's order, each a module:

- :mod:`.tasks`: the tasks, their low-resource cuts (:func:`low_resource`) and the source prompts;
- :mod:`.jobs`: one target run per method: tuning from a random prompt (:func:`scratch_job`), vanilla prompt
  transfer, PoT (SPoT, Vu et al. 2022: start from a source task's tuned prompt, :func:`pot_job`), PANDA
  (:func:`panda_job`) and multi-task fusion (:func:`fuse_prompts`, :func:`late_fusion_job`);
- :mod:`.runs`: :func:`tune_targets`, the one call that tunes jobs (batched, through the run store);
- :mod:`.metrics`: the transferability metric, the cosine between task embeddings (:func:`transferability`,
  :data:`METRICS`), judged by the rank correlation of its scores with the real PoT gains;
- :mod:`.distill`: knowledge-distillation PoT, teacher = the PoT prompt (frozen), student = a fresh random
  prompt, loss :func:`panda_loss` = CE + w * distillation (the authors' MSE / N, or the book's KL), w scaled
  by the predicted transferability;
- :mod:`.experiments`: chapter 7's tables (:func:`transfer_gains`, :func:`compare_methods`).
"""
from __future__ import annotations

from .distill import (DISTILL_KINDS, distill_weight, distillation_loss, distillation_term, gradient_pulls,
                      kl_distillation, mse_distillation, panda_loss, teacher_logits)
from .experiments import compare_methods, gain_matrix, transfer_gains
from .jobs import (DISTILL_INPUTS, PandaConfig, TargetJob, TargetRun, fuse_prompts, fused_score, fusion_weights,
                   late_fusion_job, panda_job, pot_job, scratch_job)
from .metrics import (METRIC_LABELS, METRICS, cosine_matrix, ffn_activations, intermediate_modules, probe_facts,
                      rank_correlation, task_embeddings, transferability)
from .runs import tune_targets
from .tasks import PromptMismatch, load_tasks, low_resource, source_vectors

__all__ = ["DISTILL_INPUTS", "DISTILL_KINDS", "METRICS", "METRIC_LABELS", "PandaConfig", "PromptMismatch",
           "TargetJob", "TargetRun", "compare_methods", "cosine_matrix", "distill_weight", "distillation_loss",
           "distillation_term", "ffn_activations", "fuse_prompts", "fused_score", "fusion_weights", "gain_matrix",
           "gradient_pulls", "intermediate_modules", "kl_distillation", "late_fusion_job", "load_tasks", "low_resource",
           "mse_distillation", "panda_job",
           "panda_loss", "pot_job", "probe_facts", "rank_correlation", "scratch_job", "source_vectors",
           "task_embeddings", "teacher_logits", "transfer_gains", "transferability", "tune_targets"]
