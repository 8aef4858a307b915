// SPDX-License-Identifier: LGPL-2.1-or-later
// libminibuildd through GObject-Introspection from GJS, against the build tree. Prints TAP.
import GLib from 'gi://GLib';
import Mbd from 'gi://Mbd?version=1.0';
import System from 'system';

const tests = [];
const test = (name, fn) => tests.push([name, fn]);

function assertEqual(actual, expected, what) {
    if (actual !== expected)
        throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function withHome(fn) {
    const tmp = GLib.dir_make_tmp('mbdt-XXXXXX');
    const home = GLib.build_filenamev([tmp, 'home']);
    try {
        fn(home);
    } finally {
        GLib.spawn_command_line_sync(`gpgconf --homedir ${home}/gnupg --kill gpg-agent`);
        GLib.spawn_command_line_sync(`rm -rf ${tmp}`);
    }
}

test('open an instance and read its status', () => withHome(home => {
    const instance = Mbd.Instance.new(home);
    instance.set_identity('gjstest');
    instance.set_key_algorithm('ed25519');
    assertEqual(instance.open(Mbd.InstanceOpenFlags.CREATE, null), true, 'open');
    assertEqual(instance.identity, 'gjstest', 'identity property');
    assertEqual(instance.get_fingerprint().length, 40, 'fingerprint length');
    const status = instance.get_status(null);
    assertEqual(status.get_identity(), 'gjstest', 'status identity');
    assertEqual(status.load, -1, 'load of a stopped instance');
    assertEqual(JSON.parse(status.to_json()).identity, 'gjstest', 'json');
}));

test('a missing instance raises Mbd.Error.NOT_FOUND', () => withHome(home => {
    const instance = Mbd.Instance.new(home);
    try {
        instance.open(Mbd.InstanceOpenFlags.NONE, null);
    } catch (e) {
        assertEqual(e.matches(Mbd.error_quark(), Mbd.Error.NOT_FOUND), true, 'error matches');
        return;
    }
    throw new Error('open did not fail');
}));

test('compare two versions', () => {
    assertEqual(Mbd.DebVersion.compare_strings('1.0~rc1', '1.0') < 0, true, '~ sorts first');
    assertEqual(Mbd.DebVersion.compare_strings('2:1', '1:9') > 0, true, 'epoch wins');
    const v = Mbd.DebVersion.new('1:2.3-4');
    assertEqual(v.get_upstream(), '2.3', 'upstream');
    assertEqual(Mbd.DebVersion.compare(v, Mbd.DebVersion.new('1:2.3-4')), 0, 'equal');
});

test('an invalid version raises Mbd.Error.INVALID_VERSION', () => {
    try {
        Mbd.DebVersion.new('1.0 beta');
    } catch (e) {
        assertEqual(e.matches(Mbd.error_quark(), Mbd.Error.INVALID_VERSION), true, 'error matches');
        return;
    }
    throw new Error('no error');
});

test('parse control data', () => {
    const control = Mbd.Control.new_from_string('Source: a\nFiles:\n 00 1 a.dsc\n', 'x');
    const paragraph = control.get_paragraph(0);
    assertEqual(paragraph.get('SOURCE'), 'a', 'case-insensitive get');
    assertEqual(paragraph.get_lines('Files').join('|'), '00 1 a.dsc', 'lines');
});

print(`1..${tests.length}`);
let failed = 0;
tests.forEach(([name, fn], i) => {
    try {
        fn();
        print(`ok ${i + 1} ${name}`);
    } catch (e) {
        failed++;
        print(`not ok ${i + 1} ${name}`);
        print(`# ${e.message}`);
    }
});
System.exit(failed > 0 ? 1 : 0);
