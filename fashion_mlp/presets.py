"""The named starting points of a config (`notebook`, `smoke`, `fast`, `best`): overrides of the
defaults, each recipe with the reason it was chosen."""

from __future__ import annotations

from typing import Any

from fashion_mlp.errors import ConfigError

WIDE_MLP = {"hidden": [1024, 1024], "activation": "relu", "dropout": 0.3}  # 1.9 M parameters
WIDE_MLP_OPTIMIZER = {  # AdamW, one-cycle, label smoothing: kept by every search run
    "optimizer": "adamw",
    "learning_rate": 2e-3,
    "weight_decay": 1e-4,
    "schedule": "one_cycle",
    "label_smoothing": 0.1,
}
BEST_EPOCHS = 40  # validation accuracy rose from 15 to 40 epochs, not from 40 to 80 (docs)
ALL_TRAINING_DATA = 0.0  # validation_split of a final model: its recipe was chosen on validation

PRESETS: dict[str, dict[str, Any]] = {
    "notebook": {},  # the notebook's experiment: every default of fashion_mlp.config
    "smoke": {  # the whole pipeline in seconds, for tests and CI
        "data": {"train_limit": 2000, "test_limit": 500},
        "model": {"hidden": [32]},
        "training": {"epochs": 2, "batch_size": 64},
    },
    "fast": {  # 90 % test accuracy in the least training time (docs: the 25-second search)
        # a third of the wide MLP's arithmetic; batch norm and batch 512 won within the budget
        "model": {**WIDE_MLP, "hidden": [512, 512], "batch_norm": True},
        "optimizer": {**WIDE_MLP_OPTIMIZER, "learning_rate": 5e-3},
        "training": {"epochs": 12, "batch_size": 512, "validation_split": ALL_TRAINING_DATA},
    },
    "best": {  # the most accurate plain MLP within a few minutes' training, chosen on validation
        # less dropout, mirrored images, batch norm: each won on validation (docs: the search)
        "model": {**WIDE_MLP, "dropout": 0.2, "flip": True, "batch_norm": True},
        "optimizer": WIDE_MLP_OPTIMIZER,
        "training": {
            "epochs": BEST_EPOCHS,
            "batch_size": 128,
            "validation_split": ALL_TRAINING_DATA,
        },
    },
}
RENAMED_PRESETS = {"seed": "notebook"}  # old name -> new name, for a helpful error


def preset(name: str) -> dict[str, Any]:
    if name in RENAMED_PRESETS:
        raise ConfigError(f"preset {name!r} is now called {RENAMED_PRESETS[name]!r}")
    if name not in PRESETS:
        raise ConfigError(f"preset {name!r} is unknown; expected one of {', '.join(PRESETS)}")
    return {"name": name} | PRESETS[name]


preset.__doc__ = (
    f"A preset's overrides of the defaults by name ({', '.join(PRESETS)}), for build_config."
)
