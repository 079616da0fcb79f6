"""Tokenizers: text to integer ids and back.

* :class:`CharTokenizer` - one id per character (stages 2-4: names and tinyshakespeare).
* :class:`BPETokenizer` - byte-level byte-pair encoding, GPT-2's algorithm and file format.

Both share :class:`~groundup.tokenizers.base.Tokenizer`'s interface (``encode``, ``decode``,
``vocab_size``, ``save``, ``to_config``); :func:`load_tokenizer` reads either back and
:func:`train_tokenizer` builds either from running text by name (``"char"``, ``"bpe"``).
"""

from groundup.tokenizers.base import (
    Tokenizer,
    load_tokenizer,
    tokenizer_from_config,
    train_tokenizer,
)
from groundup.tokenizers.bpe import BPETokenizer
from groundup.tokenizers.char import CharTokenizer

__all__ = [
    "Tokenizer",
    "CharTokenizer",
    "BPETokenizer",
    "load_tokenizer",
    "tokenizer_from_config",
    "train_tokenizer",
]
