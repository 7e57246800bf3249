"""ConnectWise Manage + MSP360 Managed Backup sandbox for tests, molecule, benchmarks and the demo.

    from tests.sandbox import Sandbox
    with Sandbox(fixture="demo", port=0) as sb:
        sb.url      # ConnectWise ``site``; company ``sandbox``, keys ``sandbox-public``/``sandbox-private``
        sb.mbs_url  # MSP360 API base URL; user ``sandbox-mbs``/``sandbox-mbs-password``

See README.md in this directory.
"""

from .app import COMPANY_ID, PRIVATE_KEY, PUBLIC_KEY
from .fixtures import generate_fixture, load_fixture
from .mbs import PASSWORD as MBS_PASSWORD, USERNAME as MBS_USERNAME
from .server import Sandbox

__all__ = ["Sandbox", "load_fixture", "generate_fixture", "COMPANY_ID", "PUBLIC_KEY", "PRIVATE_KEY",
           "MBS_USERNAME", "MBS_PASSWORD"]
