"""Data for recurrent networks: text, vocabularies, batching, time series, loaders, synthetic sets.

NumPy only. Submodules:

- :mod:`~rnnlab.data.vocab`: :class:`Vocabulary`, :func:`build_vocab` (documented id order).
- :mod:`~rnnlab.data.text`: word / char tokenisation, char-RNN windows.
- :mod:`~rnnlab.data.batching`: PTB-style :func:`lm_batches`, :class:`KerasBatchGenerator`,
  :func:`batch_generator`.
- :mod:`~rnnlab.data.timeseries`: :func:`read_csv_column`, scalers, :func:`sliding_windows`,
  :func:`prepare_timeseries` (chronological split, scaler fitted on train only).
- :mod:`~rnnlab.data.loaders`: PTB, Tiny Shakespeare, review polarity, IMDB (Keras format),
  MNIST IDX, text/label CSV.
- :mod:`~rnnlab.data.download`: download-once cache with checksums.
- :mod:`~rnnlab.data.synthetic`: sine windows, counting sequences, addition strings.

``to_categorical`` and ``pad_sequences`` (Keras-exact) are re-exported from :mod:`rnnlab.utils`.
"""

from rnnlab.data.batching import (
    KerasBatchGenerator,
    LMBatches,
    batch_generator,
    lm_batches,
    lm_num_batches,
)
from rnnlab.data.download import RESOURCES, cache_dir, download, fetch, file_hash, verify_file
from rnnlab.data.errors import (
    ChecksumError,
    DataFormatError,
    DatasetNotFoundError,
    DownloadError,
    MissingValuesError,
    MissingValuesWarning,
    UnknownColumnError,
    UnknownTokenError,
)
from rnnlab.data.loaders import (
    CharCorpus,
    PTBData,
    ReviewPolarity,
    get_imdb_word_index,
    load_char_corpus,
    load_imdb,
    load_mnist,
    load_ptb,
    load_ptb_chars,
    load_review_polarity,
    load_text,
    load_tiny_sentiment,
    load_tiny_shakespeare,
    read_idx,
    read_text_label_csv,
)
from rnnlab.data.synthetic import (
    ADDITION_CHARS,
    addition_dataset,
    addition_strings,
    counting_sequences,
    decode_addition,
    sine_series,
    sine_windows,
)
from rnnlab.data.text import (
    build_char_vocab,
    char_tokenize,
    char_windows,
    count_char_windows,
    one_hot_encode,
    word_tokenize,
)
from rnnlab.data.timeseries import (
    CSVReport,
    MinMaxScaler,
    StandardScaler,
    TimeSeriesData,
    chronological_split,
    count_windows,
    prepare_timeseries,
    read_csv_column,
    read_csv_columns,
    read_csv_header,
    sliding_windows,
)
from rnnlab.data.vocab import EOS, PAD, UNK, Vocabulary, build_vocab
from rnnlab.utils.sequence import pad_sequences, to_categorical

__all__ = [
    "ADDITION_CHARS",
    "CSVReport",
    "CharCorpus",
    "ChecksumError",
    "DataFormatError",
    "DatasetNotFoundError",
    "DownloadError",
    "EOS",
    "KerasBatchGenerator",
    "LMBatches",
    "MinMaxScaler",
    "MissingValuesError",
    "MissingValuesWarning",
    "PAD",
    "PTBData",
    "RESOURCES",
    "ReviewPolarity",
    "StandardScaler",
    "TimeSeriesData",
    "UNK",
    "UnknownColumnError",
    "UnknownTokenError",
    "Vocabulary",
    "addition_dataset",
    "addition_strings",
    "batch_generator",
    "build_char_vocab",
    "build_vocab",
    "cache_dir",
    "char_tokenize",
    "char_windows",
    "chronological_split",
    "count_char_windows",
    "count_windows",
    "counting_sequences",
    "decode_addition",
    "download",
    "fetch",
    "file_hash",
    "get_imdb_word_index",
    "lm_batches",
    "lm_num_batches",
    "load_char_corpus",
    "load_imdb",
    "load_mnist",
    "load_ptb",
    "load_ptb_chars",
    "load_review_polarity",
    "load_text",
    "load_tiny_sentiment",
    "load_tiny_shakespeare",
    "one_hot_encode",
    "pad_sequences",
    "prepare_timeseries",
    "read_csv_column",
    "read_csv_columns",
    "read_csv_header",
    "read_idx",
    "read_text_label_csv",
    "sine_series",
    "sine_windows",
    "sliding_windows",
    "to_categorical",
    "verify_file",
    "word_tokenize",
]
