# SPDX-License-Identifier: LGPL-2.1-or-later
"""MbdUsers through GObject-Introspection: the list of users (a container array of MbdUser), the
out parameters of subscribe and list_subscriptions, the level enum, authenticate_async on a
GLib main loop and the GError of a wrong password."""

import unittest

import gi

gi.require_version("Mbd", "1.0")
import mbdpytest  # noqa: E402
from gi.repository import GLib, Mbd  # noqa: E402


class TestUsersBindings(mbdpytest.InstanceTestCase):
    IDENTITY = "pyusers"

    def setUp(self):
        super().setUp()
        self.users = Mbd.Users.new(self.instance)

    def tearDown(self):
        self.users = None
        super().tearDown()

    def test_users(self):
        self.users.add("alice", "pw", "alice@example.org", Mbd.UserLevel.STAFF)
        self.users.add("bob", None, None, Mbd.UserLevel.LOGIN)
        names = [(u.get_name(), u.get_level()) for u in self.users.list()]
        self.assertEqual(names, [("alice", Mbd.UserLevel.STAFF), ("bob", Mbd.UserLevel.LOGIN)])
        self.assertEqual(Mbd.user_level_to_string(Mbd.UserLevel.ADMIN), "ADMIN")
        self.assertEqual(self.users.has_admin(), False)
        with self.assertRaises(GLib.Error) as raised:
            self.users.authenticate("alice", "wrong")
        self.assertTrue(raised.exception.matches(Mbd.error_quark(),
                                                 Mbd.Error.PERMISSION_DENIED))
        token = self.users.create_token("bob")
        self.assertEqual(self.users.verify_token(token).get_name(), "bob")

    def test_subscriptions(self):
        self.users.add("alice", "pw", "alice@example.org", Mbd.UserLevel.LOGIN)
        self.assertEqual(self.users.subscribe("alice", "hello", None), True)
        self.assertEqual(self.users.subscribe("alice", "hello", None), False)
        self.assertEqual(self.users.list_subscriptions("alice"), (["hello"], [""]))
        self.assertEqual(self.users.get_subscribers("hello", "bookworm-test-unstable"),
                         ["alice@example.org"])
        self.assertEqual(self.users.unsubscribe("alice", "hello", ""), True)

    def test_authenticate_async(self):
        self.users.add("alice", "pw", None, Mbd.UserLevel.ADMIN)
        loop = GLib.MainLoop()
        got = []

        def done(source, result):
            got.append(source.authenticate_finish(result))
            loop.quit()

        self.users.authenticate_async("alice", "pw", None, done)
        GLib.timeout_add_seconds(30, loop.quit)
        loop.run()
        self.assertEqual(got[0].get_level(), Mbd.UserLevel.ADMIN)
        self.assertTrue(got[0].get_is_superuser())


if __name__ == "__main__":
    unittest.main(verbosity=2)
