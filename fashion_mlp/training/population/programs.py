"""A population's compiled programs: Keras's stateless train and test steps, vmapped over the
member axis and jitted, cached by what the traced step depends on."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import keras

from fashion_mlp.training.compiled import scan_steps
from fashion_mlp.training.keras_internals import stateless_step
from fashion_mlp.training.population.members import shared_settings, traced_member_inputs

PROGRAMS_KEPT = 8  # kinds of population whose compiled programs are kept (a few MB each)


@dataclass(frozen=True)
class PopulationPrograms:
    """Jitted scans over chunks of steps, for every member at once:
    train_chunk(state, active, x, y, batch_indices, member_inputs) and
    test_chunk(state, x, y, batch_indices, member_inputs), each -> (state, logs)."""

    train_chunk: object
    test_chunk: object


# a population kind (its template's shared settings) -> its programs, least recently used first
_PROGRAMS: OrderedDict[str, PopulationPrograms] = OrderedDict()


def population_programs(template: keras.Model) -> PopulationPrograms:
    """The template's train/test scans, vmapped over the member axis and jitted.

    Cached by what the traced step depends on (architecture, loss, metrics, optimizer
    settings, the layers' constants: `shared_settings`), not by model: the next population of
    the same kind reuses the compiled programs (its entry keeps the template alive; the cache
    holds PROGRAMS_KEPT).
    """
    key = json.dumps(shared_settings(template, 0), sort_keys=True, default=str)
    if key in _PROGRAMS:
        _PROGRAMS.move_to_end(key)
        return _PROGRAMS[key]
    programs = PopulationPrograms(
        jax.jit(_train_program(template)), jax.jit(_test_program(template))
    )
    _PROGRAMS[key] = programs
    if len(_PROGRAMS) > PROGRAMS_KEPT:
        _PROGRAMS.popitem(last=False)
    return programs


def _train_program(template: keras.Model):
    def train(state, active, x, y, batch_indices, inputs):
        step_function = stateless_step(template, "train_step")

        def member(state, member_active, indices, member_inputs):
            with traced_member_inputs(template, member_inputs):
                trained, logs = scan_steps(step_function, state, x, y, indices, gather_first=False)
            # A stopped member computes but keeps its state: one select per chunk, not per step.
            kept = jax.tree.map(lambda new, old: jnp.where(member_active, new, old), trained, state)
            return kept, logs

        return jax.vmap(member)(state, active, batch_indices, inputs)

    return train


def _test_program(template: keras.Model):
    def test(state, x, y, batch_indices, inputs):
        step_function = stateless_step(template, "test_step")

        def member(state, member_inputs):
            with traced_member_inputs(template, member_inputs):
                return scan_steps(step_function, state, x, y, batch_indices, gather_first=False)

        return jax.vmap(member)(state, inputs)

    return test
