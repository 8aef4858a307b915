# SPDX-License-Identifier: LGPL-2.1-or-later
"""MbdEvents and MbdPackager through GObject-Introspection: enums, the container-transfer list
of events, the "event" signal, submit with its out key and a REJECTED event's reason."""

import os
import unittest

import gi

gi.require_version("Mbd", "1.0")
import mbdpytest  # noqa: E402
from gi.repository import GLib, Mbd  # noqa: E402


class TestPackagerBindings(mbdpytest.InstanceTestCase):
    IDENTITY = "py"

    def setUp(self):
        super().setUp()


    def test_events(self):
        self.assertEqual(Mbd.event_type_to_string(Mbd.EventType.INSTALLED), "INSTALLED")
        self.assertEqual(Mbd.event_type_from_string("built"), (True, Mbd.EventType.BUILT))
        with self.assertRaises(GLib.Error) as ctx:
            Mbd.event_type_from_string("EXPLODED")
        self.assertTrue(ctx.exception.matches(Mbd.error_quark(), Mbd.Error.INVALID_ARGUMENT))
        events = self.instance.get_events()
        seen = []
        events.connect("event", lambda _events, event: seen.append(event.get_id()))
        event = Mbd.Event.new(Mbd.EventType.MIGRATED, "bookworm-test-testing", "hello", "1.0")
        event.set_extra("architecture", "source")
        event.set_reason(400, "title", "detail")
        self.assertTrue(events.add(event))
        self.assertEqual(seen, [event.get_id()])
        listed = events.list_after(None)
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0].get_extra("architecture"), "source")
        self.assertEqual(listed[0].get_reason(), "detail")
        self.assertEqual(events.list_after(GLib.DateTime.new_now_utc().add_seconds(1)), [])
        back = Mbd.Event.new_from_json(event.to_json())
        self.assertEqual(back.get_event_type(), Mbd.EventType.MIGRATED)

    def test_submit_garbage_is_rejected(self):
        upload = os.path.join(self.tmp, "upload")
        os.makedirs(upload)
        changes = os.path.join(upload, "junk_1_source.changes")
        with open(changes, "w") as f:
            f.write("this is no changes file\n")
        packager = self.instance.get_packager()
        ok, key = packager.submit_full(changes)
        self.assertTrue(ok)
        self.assertFalse(os.path.exists(upload))
        self.assertEqual(packager.lookup_state(key), (True, Mbd.PackageState.CHECKING))
        self.instance.start()
        context = GLib.MainContext.default()
        for _ in range(200):
            if Mbd.package_state_is_final(packager.lookup_state(key)[1]):
                break
            context.iteration(True)
        self.assertEqual(packager.lookup_state(key)[1], Mbd.PackageState.REJECTED)
        rejected = [e for e in self.instance.get_events().list_after(None)
                    if e.get_extra("timecode") == key]
        self.assertEqual(len(rejected), 1)
        self.assertIn("junk_1_source.changes", rejected[0].get_reason())
        with self.assertRaises(GLib.Error) as ctx:
            packager.submit(os.path.join(self.tmp, "x.dsc"))
        self.assertTrue(ctx.exception.matches(Mbd.error_quark(), Mbd.Error.INVALID_ARGUMENT))


if __name__ == "__main__":
    unittest.main(verbosity=2)
