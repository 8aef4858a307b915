# SPDX-License-Identifier: LGPL-2.1-or-later
"""MbdEvents and the mail settings through GObject-Introspection: waiting for the next event
with next_async/next_finish on a GLib main loop, the mail settings round trip, the recipients
as a string list and the GError of a bad setting."""

import unittest

import gi

gi.require_version("Mbd", "1.0")
import mbdpytest  # noqa: E402
from gi.repository import GLib, Mbd  # noqa: E402


class TestEventsBindings(mbdpytest.InstanceTestCase):
    IDENTITY = "pyev"

    def setUp(self):
        super().setUp()


    def test_next_async(self):
        events = self.instance.get_events()
        loop = GLib.MainLoop()
        got = []

        def done(source, result):
            got.append(source.next_finish(result))
            loop.quit()

        events.next_async(-1, None, None, done)
        GLib.timeout_add(200, lambda: events.add(
            Mbd.Event.new(Mbd.EventType.MIGRATED, "bookworm-test-testing", "hello", "1.0"))
            and False)
        GLib.timeout_add_seconds(10, loop.quit)
        loop.run()
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].get_event_type(), Mbd.EventType.MIGRATED)
        self.assertEqual(got[0].get_source(), "hello")
        self.assertGreater(got[0].get_id(), 0)

    def test_mail_settings(self):
        self.assertIn("allow-emails-to", Mbd.mail_setting_names(False))
        self.assertEqual(Mbd.mail_setting_names(True),
                         ["notify", "notify-changed-by", "notify-maintainer"])
        self.assertEqual(self.instance.dup_mail_setting(None, "events"),
                         Mbd.MAIL_DEFAULT_EVENTS)
        self.instance.set_mail_setting(None, "notify", "a@example.org b@example.org")
        self.instance.set_mail_setting("test", "notify", "B@example.org c@example.org")
        event = Mbd.Event.new(Mbd.EventType.INSTALLED, "bookworm-test-unstable", "hello", "1.0")
        self.assertEqual(self.instance.list_mail_recipients(event),
                         ["a@example.org", "b@example.org", "c@example.org"])
        with self.assertRaises(GLib.Error) as caught:
            self.instance.set_mail_setting("test", "notify-maintainer", "maybe")
        self.assertTrue(caught.exception.matches(Mbd.error_quark(),
                                                 Mbd.Error.INVALID_ARGUMENT))
        self.assertIn("'maybe' is not a boolean", caught.exception.message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
