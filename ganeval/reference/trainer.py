"""Former home of the trainer, kept so that ``ganeval.reference.trainer`` imports still work.

The trainer now lives in one module per job: :mod:`~ganeval.reference.config`,
:mod:`~ganeval.reference.training` (the loop), :mod:`~ganeval.reference.checkpoints`,
:mod:`~ganeval.reference.sampling`, :mod:`~ganeval.reference.evaluation` and
:mod:`~ganeval.reference.outputs`; import from :mod:`ganeval.reference`.
"""

from .checkpoints import FORMAT, load_checkpoint
from .config import TrainConfig, TrainResult
from .evaluation import evaluate_samples
from .outputs import CHECKPOINT, check_out_dir
from .sampling import digit_images, generate
from .training import deterministic, train

__all__ = ["TrainConfig", "TrainResult", "train", "load_checkpoint", "generate", "evaluate_samples", "digit_images",
           "check_out_dir", "deterministic", "CHECKPOINT", "FORMAT"]
