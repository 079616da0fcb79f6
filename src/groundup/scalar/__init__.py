"""Stage 1: a scalar autograd engine and the neural nets built from it (micrograd).

``Value`` (in :mod:`groundup.scalar.engine`) is one number that remembers how it was
made, so ``backward()`` can apply the chain rule (``dot`` is a neuron's ``w . x + b`` as
one node); :mod:`groundup.scalar.nn` builds ``Neuron``, ``Layer`` and ``MLP`` out of Values.
"""

from groundup.scalar.engine import Value, dot, topological_order
from groundup.scalar.nn import MLP, Layer, Module, Neuron

__all__ = ["Value", "dot", "topological_order", "Module", "Neuron", "Layer", "MLP"]
