"""Linkage evaluation (``fedalert eval-linkage``): the node's tokeniser and the
matcher's engine run in one process over labelled areas, then measured.

It sits above both roles: it drives node/ (normaliser, match keys) and
matcher/ (the engine over its store), which never import each other.
"""

from fedalert.evaluation.linkage import Evaluation, Figures, engine_link, evaluate_linkage, figures, link, true_pairs

__all__ = ["Evaluation", "Figures", "engine_link", "evaluate_linkage", "figures", "link", "true_pairs"]
