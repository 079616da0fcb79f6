"""The app layer: the only part of groundup that prints, or composes the stages.

* :mod:`.cli` and :mod:`.commands`: the ``groundup`` command, a thin layer over the library.
* :mod:`.journey`: every stage one after the other (what ``groundup journey`` runs).
* :mod:`.report`: the journey's ``report.html``.

Everything below it (``scalar``, ``tensor``, ``nn``, ``optim``, ``data``, ``tokenizers``,
``models``, ``train``, ``viz``) is a library: it never prints, and nothing there imports
this package (``tests/test_architecture.py`` checks every import).
"""
