"""How large a training over HTTP may be: its parameters and an estimate of its memory, checked
before it is queued, so one request cannot take the server's memory."""

from __future__ import annotations

from fashion_mlp.config import ExperimentConfig
from fashion_mlp.errors import ConfigError
from fashion_mlp.serve.settings import ServeSettings

FLOAT_BYTES = 4
STATE_COPIES = 4  # weights, gradients and an optimizer's two moments (Adam's; SGD keeps fewer)
BATCH_COPIES = 3  # each layer's values, pre-activations and gradients for one batch


def training_memory_bytes(config: ExperimentConfig) -> int:
    """A rough upper estimate of a training's memory: model state and one batch's activations."""
    spec = config.model.spec
    widths = spec.num_features + sum(spec.hidden) + spec.num_classes
    batch = config.training.batch_size * widths * BATCH_COPIES
    return FLOAT_BYTES * (spec.parameter_count * STATE_COPIES + batch)


def check_training_size(config: ExperimentConfig, settings: ServeSettings) -> None:
    """Raise ConfigError (422) naming the limit when the training is larger than the server's."""
    parameters = config.model.spec.parameter_count
    if parameters > settings.max_training_parameters:
        raise ConfigError(
            f"model.hidden = {list(config.model.spec.hidden)} has {parameters:,} parameters, "
            f"more than this server's limit of {settings.max_training_parameters:,} "
            "(max_training_parameters); use fewer or narrower layers, or train with the CLI"
        )
    memory = training_memory_bytes(config)
    if memory > settings.max_training_memory_bytes:
        raise ConfigError(
            f"the training needs about {memory / 2**30:.1f} GiB (model state and a batch of "
            f"{config.training.batch_size}), more than this server's limit of "
            f"{settings.max_training_memory_bytes / 2**30:.1f} GiB (max_training_memory_bytes); "
            "use a smaller training.batch_size or model, or train with the CLI"
        )
