"""The web app and HTTP API (`fashion-mlp serve`): a client of the library, like the CLI.

`create_app` builds the FastAPI application; the command in `cli/commands/serve.py` runs it
with uvicorn. Routes turn HTTP into library calls; the limits are in `settings.py`.
"""

from fashion_mlp.serve.app import create_app
from fashion_mlp.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]
