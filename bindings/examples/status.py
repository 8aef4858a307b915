#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Print the status of an mbd instance, creating it if needed: libminibuildd from Python.

Usage: status.py HOME
"""

import sys

import gi

gi.require_version("Mbd", "1.0")
from gi.repository import Mbd  # noqa: E402

instance = Mbd.Instance.new(sys.argv[1])
instance.open(Mbd.InstanceOpenFlags.CREATE, None)
status = instance.get_status(None)
print(f"{status.props.identity}: key {instance.props.fingerprint}, chroots {status.get_chroots()}")
print(status.to_json())
