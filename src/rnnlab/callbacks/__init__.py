"""Training callbacks with Keras 3's interface and behaviour.

A callback gets ``set_model(model)`` and ``set_params(params)`` (``verbose``, ``epochs``,
``steps``), then the hooks ``on_train_begin/end``, ``on_epoch_begin/end``,
``on_train_batch_begin/end``, ``on_test_*`` and ``on_predict_*``. Epoch indices are 0-based in the
hooks and 1-based in messages and file names, as in Keras. ``CallbackList`` dispatches to all of
them; ``fit`` always adds a ``History`` (returned by ``fit`` and set as ``model.history``) and,
when ``verbose != 0``, a ``ProgbarLogger``.

What a callback uses of the model: ``stop_training``, ``get_weights()``/``set_weights()``,
``save(path, overwrite=True)``, ``save_weights(path, overwrite=True)`` and
``optimizer.learning_rate`` (a settable float).

Differences from Keras, all deliberate:

* ``ModelCheckpoint`` never writes a checkpoint while the loss or the monitored value is NaN or
  infinite (it warns instead), so after ``TerminateOnNaN`` the last good checkpoint survives. It
  does not insist on Keras's file extensions: the model's ``save``/``save_weights`` decide.
* ``mode="auto"`` is resolved the same way by ``EarlyStopping``, ``ModelCheckpoint`` and
  ``ReduceLROnPlateau``: a metric object on the model with a ``direction`` ("up"/"down") wins;
  otherwise names containing acc, auc, precision, recall, f1, fbeta or iou are maximised and
  everything else (losses, errors) minimised. Keras 3 raises for names it cannot place.
* ``EarlyStopping`` and ``ReduceLROnPlateau`` reset their best value at ``on_train_begin``, so a
  callback object can be reused for a second ``fit``; ``ModelCheckpoint`` keeps its best value.
* Weights kept by ``EarlyStopping(restore_best_weights=True)`` are copies.
* ``CSVLogger`` writes ``\\n`` line endings (Keras's ``csv.excel`` dialect writes ``\\r\\n``).
"""

from .base import Callback, resolve_mode
from .callback_list import CallbackList, History
from .checkpoint import ModelCheckpoint
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .misc import LambdaCallback, TerminateOnNaN
from .progbar import ProgbarLogger

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "resolve_mode",
]
