"""Who is calling the matcher: the area id from the verified client certificate, only.

The logic is shared with the OPRF key service and lives in fedalert.keys.peers.
"""

from fedalert.keys.peers import Authz, _peer_cert  # noqa: F401 - the matcher's names for them

__all__ = ["Authz"]
