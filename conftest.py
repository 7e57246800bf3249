"""Makes the working tree importable as ``ansible_collections.mbs.connectwise``.

Modules import their utilities by collection path. A symlink
``.collections/ansible_collections/mbs/connectwise`` -> repository root serves
both pytest (through ``sys.path``) and the ``ansible-playbook`` runs of the
integration tests (through ``ANSIBLE_COLLECTIONS_PATH``), so both test the
working tree as it is.
"""

import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(ROOT, ".collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "mbs", "connectwise")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
os.environ["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS
