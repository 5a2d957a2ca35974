"""Verbs on the store itself: `init` and `info`."""

from __future__ import annotations

from .common import Verb, add_store, existing_store, store_path

INIT = Verb("init", "create a store, or upgrade an existing one", "mist:createstore",
            add_store, lambda a: {"STORE": store_path(a)})
INFO = Verb("info", "print what a store holds", "mist:storeinfo",
            add_store, lambda a: {"STORE": existing_store(a)})
