"""Populations: K models of one architecture trained at once, in one jitted program.

The compiled engine's state (trainable, non-trainable, optimizer and metric variables) gains a
leading member axis, and `jax.vmap` maps Keras's own stateless `train_step`/`test_step` over it
inside the same `lax.scan`s as compiled.py. The data is put on the device once and shared; each
member gathers its own batches by index. On a CPU with one JAX device per core, the member axis
is split over the cores, padded with never-kept copies of a member where it would not split
evenly (placement.py). What members may differ in is declared once, in
`fashion_mlp.member_settings`; everything else that is a Python constant in the compiled step
must match (members.py checks it).

Semantics are `fit_compiled`'s, member by member: the validation split, per-epoch validation
metrics, the partial last batch, Keras's EarlyStopping rules per member (a stopped member is
frozen, its best weights restored as configured, while the others go on), and exact resume from
a checkpoint folder written after every epoch.

Modules: train (the public function), trainer (one program's epoch loop), members (what members
share and what each has its own of), programs (the compiled-program cache), planning (members
per program), placement (devices), checkpoint, early_stopping.
"""

from fashion_mlp.training.population.train import train_population

__all__ = ["train_population"]
