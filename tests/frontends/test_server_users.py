# SPDX-License-Identifier: LGPL-2.1-or-later
"""mbd-server's users and roles: the Django-style login flow mini-buildd's client performs
(/accounts/login/ with the csrftoken cookie, the redirect to next, the sessionid cookie), its
refusals (CSRF, wrong password), logout, bearer tokens, the calls of a user's profile
(set_user_key, subscribe, unsubscribe) and the role matrix: every one of mini-buildd's 30 API
calls for anonymous, login, staff and admin clients."""

import http.client
import http.cookies
import json
import os
import stat
import subprocess
import unittest
import urllib.parse

from mbdtestlib import HomeTestCase, Server, run_mbd

# mini-buildd 2.2.8's calls and the level each needs (its reference, section 3.2); kept here
# independently of the server's table, so that a wrong row there fails this test.
LEVELS = {
    "status": "NONE", "pub_key": "NONE", "dput_conf": "NONE", "sources_list": "NONE",
    "ls": "NONE", "show": "NONE", "debdiff": "NONE", "snapshot_ls": "NONE", "handshake": "NONE",
    "migrate": "STAFF", "port": "STAFF", "port_ext": "STAFF", "retry": "STAFF",
    "cancel": "STAFF", "wake": "STAFF",
    "set_user_key": "LOGIN", "subscribe": "LOGIN", "unsubscribe": "LOGIN",
    "remove": "ADMIN", "remake_chroots": "ADMIN", "start": "ADMIN", "stop": "ADMIN",
    "cronjob": "ADMIN", "uploaders": "ADMIN", "snapshot_create": "ADMIN",
    "snapshot_delete": "ADMIN", "debmirror": "ADMIN", "keyring_packages": "ADMIN",
    "test_packages": "ADMIN", "setup": "ADMIN",
}
ORDER = ["NONE", "LOGIN", "STAFF", "ADMIN"]
PASSWORDS = {"lou": "login pass", "stan": "staff pass"}


class UsersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp_home = HomeTestCase()
        cls.tmp_home.setUp()
        cls.home = cls.tmp_home.home
        run_mbd("init", "--identity", "users", "--key-type", "ed25519", home=cls.home)
        cls.server = Server(cls.home)
        cls.admin_password = open(os.path.join(cls.home, "admin-password")).read().strip()
        for name, flags in (("lou", []), ("stan", ["--staff"])):
            proc = subprocess.run([os.environ["MBD"], "--home", cls.home, "user", "add", name,
                                   *flags], input=PASSWORDS[name] + "\n", capture_output=True,
                                  text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr

    @classmethod
    def tearDownClass(cls):
        code, err = cls.server.stop()
        cls.tmp_home.tearDown()
        assert code == 0, err

    def request(self, method, path, headers=None, body=None):
        """(status, response headers, body bytes) without following redirects."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    @staticmethod
    def cookies(headers):
        """{name: (value, the whole Set-Cookie line)} of a response."""
        result = {}
        for line in headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie(line)
            for name, morsel in cookie.items():
                result[name] = (morsel.value, line)
        return result

    def login_form(self):
        status, headers, body = self.request("GET", "/accounts/login/")
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        csrf = self.cookies(headers)["csrftoken"][0]
        html = body.decode()
        for field in ("csrfmiddlewaretoken", "username", "password", "next"):
            self.assertIn(f'name="{field}"', html)
        self.assertIn(f'value="{csrf}"', html)
        return csrf

    def post_login(self, user, password, csrf_cookie, csrf_field, next_url="/accounts/null/"):
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf_field, "username": user,
                                       "password": password, "next": next_url})
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Referer": f"{self.server.base}/accounts/login/"}
        if csrf_cookie is not None:
            headers["Cookie"] = f"csrftoken={csrf_cookie}"
        return self.request("POST", "/accounts/login/", headers, form)

    def login(self, user, password):
        """The session id of a login through the form, as mini-buildd's client does it."""
        csrf = self.login_form()
        status, headers, body = self.post_login(user, password, csrf, csrf,
                                                f"{self.server.base}/accounts/null/")
        self.assertEqual(status, 302, body)
        self.assertEqual(headers["Location"], "/accounts/null/")
        return self.cookies(headers)["sessionid"][0]

    def api(self, call, query="output=json", session=None, token=None):
        headers = {}
        if session is not None:
            headers["Cookie"] = f"sessionid={session}"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        status, headers, body = self.request("GET", f"/mini_buildd/api/{call}/?{query}", headers)
        return status, headers, body

    def assert_problem(self, body, status, detail):
        problem = json.loads(body)
        self.assertEqual(problem["status"], status)
        self.assertEqual(problem["type"], "about:blank")
        self.assertEqual(problem["instance"], "about:blank")
        self.assertTrue(problem["detail"].startswith(detail), problem)
        return problem

    def test_login_flow(self):
        """GET the form (csrftoken cookie), POST with the Referer and the token: 302 to next
        with an HttpOnly SameSite=Lax sessionid cookie that authenticates API calls."""
        csrf = self.login_form()
        status, headers, body = self.post_login("stan", PASSWORDS["stan"], csrf, csrf)
        self.assertEqual(status, 302, body)
        self.assertEqual(headers["Location"], "/accounts/null/")
        cookies = self.cookies(headers)
        session, line = cookies["sessionid"]
        self.assertRegex(session, r"^[0-9a-f]{64}$")
        self.assertIn("HttpOnly", line)
        self.assertIn("SameSite=Lax", line)
        self.assertIn("csrftoken", cookies)  # rotated on login
        status, _, body = self.request("GET", "/accounts/null/", {"Cookie": f"sessionid={session}"})
        self.assertEqual(status, 200)
        status, _, body = self.api("subscribe", "source=hello&output=json", session=session)
        self.assertEqual(status, 200, body)

        # next must stay on this server
        for evil in ("https://evil.example/", "//evil.example/x", "/\\evil"):
            status, headers, _ = self.post_login("stan", PASSWORDS["stan"], csrf, csrf, evil)
            self.assertEqual(status, 302)
            self.assertEqual(headers["Location"], "/", evil)

    def test_real_client(self):
        """mini-buildd's own client logs in and calls a LOGIN call with its session."""
        try:
            import mini_buildd.net
        except ImportError:
            self.skipTest("mini-buildd's python module is not installed")
        endpoint = mini_buildd.net.ClientEndpoint(f"http://lou@127.0.0.1:{self.server.port}")
        endpoint.login(PASSWORDS["lou"])
        with endpoint.urlopen(f"{self.server.base}/mini_buildd/api/subscribe/"
                              "?source=real&distribution=&output=json") as response:
            self.assertEqual(json.load(response),
                             {"created": True, "source": "real", "distribution": ""})
        with self.assertRaises(Exception) as raised:
            mini_buildd.net.ClientEndpoint(
                f"http://lou@127.0.0.1:{self.server.port}").login("wrong")
        self.assertIn("Login for user 'lou' failed", str(raised.exception))

    def test_bad_csrf(self):
        """A POST without the csrftoken cookie or with another token is refused (403), and sets
        no session."""
        csrf = self.login_form()
        other = "0" * 64
        for cookie, field in ((None, csrf), (csrf, other), (csrf, ""), ("", "")):
            status, headers, body = self.post_login("stan", PASSWORDS["stan"], cookie, field)
            self.assertEqual(status, 403, (cookie, field, body))
            self.assert_problem(body, 403, "CSRF verification failed")
            self.assertNotIn("sessionid", self.cookies(headers))

    def test_bad_password(self):
        """A wrong password or an unknown user gets the form again with an error, no session."""
        for user, password in (("stan", "wrong"), ("nobody", "x"), ("stan", "")):
            csrf = self.login_form()
            status, headers, body = self.post_login(user, password, csrf, csrf)
            self.assertEqual(status, 200, body)
            self.assertNotIn("sessionid", self.cookies(headers))
            self.assertIn('class="errornote"', body.decode())
            self.assertIn('name="password"', body.decode())

    def test_logout(self):
        """Logout ends the session on the server: the old cookie no longer authenticates."""
        session = self.login("lou", PASSWORDS["lou"])
        self.assertEqual(self.api("subscribe", session=session)[0], 200)
        for method in ("GET", "POST"):
            status, headers, _ = self.request(method, "/accounts/logout/",
                                              {"Cookie": f"sessionid={session}"})
            self.assertEqual(status, 200)
            self.assertIn("Max-Age=0", self.cookies(headers)["sessionid"][1])
            status, _, body = self.api("subscribe", session=session)
            self.assertEqual(status, 401, body)
            session = self.login("lou", PASSWORDS["lou"])
        status, headers, _ = self.request("GET", "/accounts/logout/?next=/accounts/login/",
                                          {"Cookie": f"sessionid={session}"})
        self.assertEqual(status, 302)
        self.assertEqual(headers["Location"], "/accounts/login/")

    def test_role_matrix(self):
        """Every call for every role: 401 (anonymous) or 403 (logged in) with mini-buildd's
        problem body where the role lacks the call's level, else the authorization passes."""
        sessions = {"NONE": None,
                    "LOGIN": self.login("lou", PASSWORDS["lou"]),
                    "STAFF": self.login("stan", PASSWORDS["stan"]),
                    "ADMIN": self.login("admin", self.admin_password)}
        self.assertEqual(len(LEVELS), 30)
        for call, level in LEVELS.items():
            for role, session in sessions.items():
                with self.subTest(call=call, role=role):
                    status, headers, body = self.api(call, session=session)
                    allowed = ORDER.index(role) >= ORDER.index(level)
                    if allowed:
                        self.assertNotIn(status, (401, 403), body)
                        continue
                    detail = f"API call '{call}' needs authorization: {level}"
                    self.assertEqual(headers["Content-Type"], "application/problem+json")
                    if role == "NONE":
                        self.assertEqual(status, 401, body)
                        self.assertEqual(json.loads(body), {
                            "type": "about:blank", "status": 401,
                            "title": "No permission -- see authorization schemes",
                            "detail": detail, "instance": "about:blank"})
                    else:
                        self.assertEqual(status, 403, body)
                        self.assert_problem(body, 403, detail)

    def test_bearer_token(self):
        """`mbd user token` makes a bearer token that authenticates with its user's level; a
        wrong or revoked token is 401."""
        token = run_mbd("user", "token", "stan", home=self.home).stdout.strip()
        self.assertRegex(token, r"^[0-9a-f]{64}$")
        status, _, body = self.api("migrate", token=token)
        self.assertNotIn(status, (401, 403), body)
        status, _, body = self.api("remove", token=token)
        self.assertEqual(status, 403, body)
        for wrong in ("0" * 64, token[:-1], ""):
            status, headers, body = self.api("migrate", token=wrong)
            self.assertEqual(status, 401, (wrong, body))
            self.assertIn("Bearer", headers["WWW-Authenticate"])
        run_mbd("user", "token", "stan", "--revoke", home=self.home)
        status, _, body = self.api("migrate", token=token)
        self.assertEqual(status, 401, body)

    def test_subscriptions(self):
        """subscribe answers {created, source, distribution}, created only the first time;
        unsubscribe lists what it removed (exact matches only)."""
        session = self.login("lou", PASSWORDS["lou"])
        query = "source=hello-sub&distribution=bookworm-test-unstable&output=json"
        expected = {"source": "hello-sub", "distribution": "bookworm-test-unstable"}
        status, _, body = self.api("subscribe", query, session=session)
        self.assertEqual((status, json.loads(body)), (200, {"created": True, **expected}))
        status, _, body = self.api("subscribe", query, session=session)
        self.assertEqual((status, json.loads(body)), (200, {"created": False, **expected}))
        status, _, body = self.api("unsubscribe", "source=hello-sub&output=json", session=session)
        self.assertEqual((status, json.loads(body)), (200, []))
        status, _, body = self.api("unsubscribe", query, session=session)
        self.assertEqual((status, json.loads(body)), (200, [expected]))

    def test_set_user_key(self):
        """set_user_key needs confirm; the key is checked and stays inactive until
        `mbd user activate-key` makes it an uploader key."""
        session = self.login("lou", PASSWORDS["lou"])
        armored = subprocess.run(["gpg", "--homedir", os.path.join(self.home, "gnupg"),
                                  "--export", "--armor"], capture_output=True, text=True,
                                 check=True).stdout
        key = urllib.parse.quote(armored)
        status, _, body = self.api("set_user_key", f"key={key}&output=json", session=session)
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["detail"],
                         "API call 'set_user_key' needs to be confirmed: set_user_key")
        status, _, body = self.api("set_user_key", "key=0xDEADBEEF&confirm=set_user_key",
                                   session=session)
        self.assertEqual(status, 400, body)
        self.assertIn("key id", json.loads(body)["detail"])
        status, _, body = self.api("set_user_key", f"key={key}&confirm=set_user_key",
                                   session=session)
        self.assertEqual((status, json.loads(body)), (200, {}))
        users = {u["name"]: u for u in json.loads(run_mbd("user", "ls", "--json",
                                                          home=self.home).stdout)}
        self.assertIsNotNone(users["lou"]["key_fingerprint"])
        self.assertFalse(users["lou"]["key_active"])
        uploader = os.path.join(self.home, "uploaders", "user-lou.asc")
        self.assertFalse(os.path.exists(uploader))
        run_mbd("user", "activate-key", "lou", home=self.home)
        with open(uploader) as f:
            self.assertIn("BEGIN PGP PUBLIC KEY BLOCK", f.read())

    def test_admin_password_file(self):
        """The first start made the administrator with a password file only its owner reads."""
        path = os.path.join(self.home, "admin-password")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertRegex(self.admin_password, r"^[0-9a-f]{32}$")
        users = json.loads(run_mbd("user", "ls", "--json", home=self.home).stdout)
        admin = [u for u in users if u["name"] == "admin"][0]
        self.assertEqual(admin["level"], "ADMIN")


class CliTest(HomeTestCase):
    def test_user_cli(self):
        """mbd user: add (password from stdin or a file), ls, passwd, rm and the usage and
        input errors."""
        run_mbd("init", "--identity", "cli", "--key-type", "ed25519", home=self.home)
        mbd = [os.environ["MBD"], "--home", self.home, "user"]

        def user(*args, stdin=""):
            return subprocess.run(mbd + list(args), input=stdin, capture_output=True, text=True,
                                  timeout=60)

        proc = user("add", "ann", "--admin", "--email", "ann@example.org", stdin="pw\n")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        pwfile = os.path.join(self.tmp, "pw")
        with open(pwfile, "w") as f:
            f.write("filepw\n")
        proc = user("add", "ben", "--password-file", pwfile)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        users = {u["name"]: u for u in json.loads(user("ls", "--json").stdout)}
        self.assertEqual(users["ann"]["level"], "ADMIN")
        self.assertEqual(users["ann"]["email"], "ann@example.org")
        self.assertEqual(users["ben"]["level"], "LOGIN")
        self.assertIn("ben", user("ls").stdout)

        proc = user("add", "ann", stdin="pw\n")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("user 'ann' exists already", proc.stderr)
        proc = user("add", "cid", stdin="\n")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no password", proc.stderr)
        proc = user("add", "bad/name", stdin="pw\n")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("bad/name", proc.stderr)
        proc = user("passwd", "nobody", stdin="pw\n")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("there is no user 'nobody'", proc.stderr)
        self.assertEqual(user("frobnicate").returncode, 2)
        self.assertEqual(user("rm").returncode, 2)

        self.assertEqual(user("passwd", "ben", stdin="new\n").returncode, 0)
        self.assertEqual(user("rm", "ben").returncode, 0)
        self.assertNotIn("ben", user("ls").stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
