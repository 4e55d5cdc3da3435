"""The OPRF key service (token mode "oprf"): evaluates blinded match keys for area nodes.

Run by the key custodian on a host apart from the matcher
(``fedalert keysvc serve``). Modules: ``limits`` (per-area rate limits and
daily quotas), ``store`` (batch ids and usage in SQLite), ``service`` (the
evaluation and the gRPC servicer), ``server`` (assembly over mTLS),
``report`` (evaluations per area and probing flags), ``cli``.
"""
