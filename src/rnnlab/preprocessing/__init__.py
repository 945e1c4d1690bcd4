"""Keras-compatible ``preprocessing`` namespace: ``sequence.pad_sequences`` and ``text.Tokenizer``.

``from rnnlab.preprocessing.sequence import pad_sequences`` and
``from rnnlab.preprocessing.text import Tokenizer`` work as their Keras counterparts.
"""

from rnnlab.preprocessing import sequence, text
from rnnlab.preprocessing.sequence import pad_sequences
from rnnlab.preprocessing.text import Tokenizer, text_to_word_sequence, tokenizer_from_json

__all__ = [
    "Tokenizer",
    "pad_sequences",
    "sequence",
    "text",
    "text_to_word_sequence",
    "tokenizer_from_json",
]
