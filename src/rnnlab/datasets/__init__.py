"""Keras's ``keras.datasets`` loaders: ``imdb``, ``mnist`` and ``reuters`` ``load_data(...)``,
with Keras's arguments, index conventions and results.

Files are read from ``path`` when it names an existing file or folder, else from rnnlab's cache
(``$RNNLAB_CACHE`` or ``~/.cache/rnnlab``, one folder per data set), downloading the Keras file
once (checksum verified) when it is missing. Offline (or with ``RNNLAB_OFFLINE=1``) a missing
file raises an error naming the URL and the exact path to put the file at.
"""

from . import imdb, mnist, reuters

__all__ = ["imdb", "mnist", "reuters"]
