"""The MLflow pyfunc of a werkmatch ranker, logged as *code* (MLflow's models-from-code), not a pickle.

``mlflow.pyfunc.load_model("models:/werkmatch-ranker@champion")`` gives a model whose ``predict``
takes a DataFrame with the columns of :data:`matching.features.FEATURE_NAMES` (and ``notes_readiness`` for a
ranker that reads the notes column: its ``feature_names``) and returns one score per row. Serving does not go
through here: it loads the same ranker directory directly (:func:`training.registry.load_version`).
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from matching.ranker import load_ranker


class RankerModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.ranker = load_ranker(Path(context.artifacts["ranker"]), "werkmatch-ranker")

    def predict(self, context: mlflow.pyfunc.PythonModelContext, model_input: pd.DataFrame, params=None) -> np.ndarray:  # noqa: ARG002
        return self.ranker.score_inputs(model_input[list(self.ranker.feature_names)].to_numpy(np.float32))


mlflow.models.set_model(RankerModel())
