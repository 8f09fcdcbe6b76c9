"""Make the collection importable as ansible_collections.qi.convergence from the checkout."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
link = os.path.join(COLLECTIONS, "ansible_collections", "qi", "convergence")
if not os.path.exists(link):
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink("../../../..", link)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
