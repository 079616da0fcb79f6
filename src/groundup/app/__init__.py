"""The app layer: the only part of groundup that prints, or composes the stages.

* :mod:`.cli` and :mod:`.commands`: the ``groundup`` command; each command is its flags and
  a short ``run(args)`` over the modules below.
* :mod:`.recipes`: each stage's data, model, optimiser and schedule, for the commands and
  the journey alike; :mod:`.checks`: the refusals before anything is written;
  :mod:`.sampling`: samples from a model, new words marked.
* :mod:`.training`: the training runs of ``groundup micrograd`` and ``groundup train``, in
  run folders with one owner (:mod:`.runs`).
* :mod:`.journey`: every stage one after the other (what ``groundup journey`` runs).
* :mod:`.report`: the journey's ``report.html``.

Everything below it (``scalar``, ``tensor``, ``nn``, ``optim``, ``data``, ``tokenizers``,
``models``, ``train``, ``viz``) is a library: it never prints, and nothing there imports
this package (``tests/test_architecture.py`` checks every import).
"""
