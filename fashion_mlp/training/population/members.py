"""The per-member settings (`fashion_mlp.member_settings.PER_MEMBER`) as compiled Keras models
hold them: each member's values, their tracing into the template's step, and what every member
of one population must share."""

from __future__ import annotations

import hashlib
import json
from contextlib import ExitStack

import keras
import numpy as np

from fashion_mlp import member_settings
from fashion_mlp.config import is_number
from fashion_mlp.errors import ConfigError
from fashion_mlp.losses import SparseCategoricalCrossentropyWithSmoothing
from fashion_mlp.member_settings import InModel
from fashion_mlp.training.keras_internals import layer_constants, traced_dropout, traced_setting

OWN_VALUE = "per member"  # what stands for a member's own value in the settings all share


def in_model_settings() -> dict[str, InModel]:
    """Each place in a model that PER_MEMBER names, by name."""
    return {
        setting.in_model.name: setting.in_model
        for setting in member_settings.PER_MEMBER
        if setting.in_model is not None
    }


def member_inputs(model: keras.Model) -> dict[str, float | list[float]]:
    """The model's values of the traced per-member settings, inputs of the population's
    program: 0 for a setting the model lacks, a keep probability per per-member Dropout layer."""
    inputs = {}
    for name, place in in_model_settings().items():
        if place.owner == "dropout":  # as keep probabilities, computed as Keras computes them
            inputs[name] = [1.0 - rate for rate in _value(model, place)]
        elif place.traced:
            inputs[name] = _value(model, place) or 0.0
    return inputs


def traced_member_inputs(template: keras.Model, inputs: dict) -> ExitStack:
    """Contexts that trace one member's `inputs` into the template's optimizer, loss and
    Dropout layers, where the template has the setting (whether it does is shared by every
    member: `shared_settings`)."""
    stack = ExitStack()
    for name, place in in_model_settings().items():
        if not place.traced:
            continue
        if place.owner == "dropout":
            for layer, keep in zip(member_dropouts(template), inputs[name], strict=True):
                stack.enter_context(traced_dropout(layer, keep))
            continue
        owner = _owner(template, place.owner)
        if owner is not None and getattr(owner, place.attribute, None) is not None:
            stack.enter_context(traced_setting(owner, place.attribute, inputs[name]))
    return stack


def member_dropouts(model: keras.Model) -> list[keras.layers.Dropout]:
    """The model's Dropout layers whose rate may differ per member: those that drop something
    and not everything (rate 0 and 1 are special cases in Keras's code), and drop as Dropout
    does (SpatialDropout1D, a subclass, draws its mask otherwise: its rate must match)."""
    return [
        layer
        for layer in model.layers
        if type(layer).call is keras.layers.Dropout.call and 0 < layer.rate < 1
    ]


def check_members(models: list[keras.Model]) -> None:
    """Raise ConfigError unless every model may train in one population with models[0]."""
    reference = shared_settings(models[0], 0)
    for index, model in enumerate(models[1:], 1):
        settings = shared_settings(model, index)
        for key in reference:
            if settings[key] != reference[key]:
                raise ConfigError(
                    f"member {index} differs from member 0 in its {key}: the members of one "
                    f"population may differ only in weights, {member_settings.described()}; "
                    "train the others as another population"
                )


def shared_settings(model: keras.Model, index: int) -> dict:
    """What must be equal across members: architecture, loss, metrics, optimizer settings
    (where a per-member setting has a value, only that it has one: the traced step takes any),
    and the layers' constants (an adapted Normalization's mean and variance: the step reads
    the template's)."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        raise ConfigError(f"member {index} is not compiled; call model.compile(...) first")
    places = in_model_settings()
    optimizer = _shared_config(model.optimizer.get_config(), places, "optimizer")
    optimizer.pop("name", None)
    compile_config = model.get_compile_config() or {}
    loss = compile_config.get("loss")
    if isinstance(_owner(model, "loss"), SparseCategoricalCrossentropyWithSmoothing):
        loss = loss | {"config": _shared_config(loss["config"], places, "loss")}
    return {
        "architecture": _architecture(model, places),
        "weight shapes": [tuple(weight.shape) for weight in model.weights],
        "loss": json.dumps(loss, sort_keys=True, default=str),
        "metrics": json.dumps(compile_config.get("metrics"), sort_keys=True, default=str),
        "optimizer settings": json.dumps(optimizer, sort_keys=True, default=str),
        "layer constants (an adapted Normalization's mean and variance, ...)": _constants_digest(
            model
        ),
    }


def _owner(model: keras.Model, owner: str):
    """The object holding an "optimizer" or "loss" setting; None for a loss other than
    fashion-mlp's own (Keras's losses test their settings in Python: they cannot be traced)."""
    if owner == "optimizer":
        return model.optimizer
    if owner == "loss" and isinstance(model.loss, SparseCategoricalCrossentropyWithSmoothing):
        return model.loss
    return None


def _value(model: keras.Model, place: InModel):
    if place.owner == "dropout":
        return [getattr(layer, place.attribute) for layer in member_dropouts(model)]
    return getattr(_owner(model, place.owner), place.attribute, None)


def _shared_config(config: dict, places: dict, owner: str) -> dict:
    """An optimizer's or loss's config with its per-member values replaced by OWN_VALUE; None
    (no such step) and what is not a number (a learning-rate schedule) stay as they are."""
    config = dict(config)
    for place in places.values():
        if place.owner == owner and is_number(config.get(place.attribute)):
            config[place.attribute] = OWN_VALUE
    return config


def _architecture(model: keras.Model, places: dict) -> str:
    """The model's layers and their settings, without the names Keras numbers per instance and
    with the per-member settings of per-member Dropout layers replaced by OWN_VALUE."""
    per_member = {id(layer) for layer in member_dropouts(model)}
    dropout = [place.attribute for place in places.values() if place.owner == "dropout"]
    layers = []
    for layer in model.layers:
        config = {key: value for key, value in layer.get_config().items() if key != "name"}
        if id(layer) in per_member:
            config |= dict.fromkeys(dropout, OWN_VALUE)
        layers.append([type(layer).__name__, config])
    return json.dumps([type(model).__name__, layers], sort_keys=True, default=str)


def _constants_digest(model: keras.Model) -> str:
    """A digest of the arrays the model's layers hold outside their variables."""
    digest = hashlib.sha256()
    for name, value in layer_constants(model):
        array = np.asarray(value)
        digest.update(f"{name} {array.dtype} {array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
