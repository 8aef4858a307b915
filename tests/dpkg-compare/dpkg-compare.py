#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares libminibuildd's Debian version ordering with `dpkg --compare-versions` itself.

The versions come from a real Debian Sources index, fetched with apt from the mirror and suite
this machine's own apt sources name (read at run time, never written down here), plus generated
adversarial versions. Every Sources version is in at least one pair: all of them are sorted with
libminibuildd's order and dpkg must confirm every neighbouring pair, which (dpkg's order being
transitive) means dpkg sorts the whole set the same way; random pairs come on top. Generated
pairs cover epochs, '~', '+', letters against digits, leading zeros, long digit runs, and
strings that are not valid versions (through mbd_deb_version_compare_strings(), wherever dpkg
accepts them, and their validity against dpkg's warnings).

To keep dpkg to one exec per pair, dpkg is asked to confirm libminibuildd's answer (`lt`, `eq`
or `gt`); only when it does not is dpkg asked again to find its own answer for the report.

Usage: dpkg-compare.py HELPER
  HELPER  the mbd-compare-helper program built next to this script
Environment: MBD_DPKG_COMPARE_OFFLINE=1 skips the download and uses the machine's Packages lists.
Exit status 0 when libminibuildd and dpkg agree on every pair, 1 otherwise.
"""

import concurrent.futures
import glob
import os
import pwd
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

MIN_PAIRS = 10000
APT_HELPER = '/usr/lib/apt/apt-helper'
SIGN = {'-': -1, '0': 0, '+': 1}
OPERATOR = {-1: 'lt', 0: 'eq', 1: 'gt'}


def log(message):
    print(message, file=sys.stderr, flush=True)


def show(version):
    """A version as printable text (the generated ones contain raw bytes)."""
    return repr(version.decode('latin-1'))


# ---------------------------------------------------------------------------------------------
# Where to fetch from: the machine's apt sources, read at run time.

def deb822_stanzas(text):
    stanzas, fields, last = [], {}, None
    for line in text.splitlines():
        if line.startswith('#'):
            continue
        if not line.strip():
            if fields:
                stanzas.append(fields)
            fields, last = {}, None
        elif line[0] in ' \t' and last is not None:
            fields[last] += '\n' + line.strip()
        elif ':' in line:
            last, value = line.split(':', 1)
            last = last.strip().lower()
            fields[last] = value.strip()
    if fields:
        stanzas.append(fields)
    return stanzas


def machine_sources():
    """(uri, suite, component, signed_by or None) for every http(s) archive the machine uses."""
    found = []
    for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
        try:
            with open(path, encoding='utf-8') as f:
                stanzas = deb822_stanzas(f.read())
        except OSError:
            continue
        for stanza in stanzas:
            if stanza.get('enabled', 'yes').lower() == 'no':
                continue
            if not {'deb', 'deb-src'} & set(stanza.get('types', '').split()):
                continue
            signed_by = stanza.get('signed-by')
            if signed_by is not None and ('\n' in signed_by or not os.path.isfile(signed_by)):
                signed_by = None  # an inline key block; let apt use its trusted keys
            components = stanza.get('components', 'main').split() or ['main']
            component = 'main' if 'main' in components else components[0]
            for uri in stanza.get('uris', '').split():
                for suite in stanza.get('suites', '').split():
                    found.append((uri, suite, component, signed_by))

    lists = ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list'))
    for path in lists:
        try:
            with open(path, encoding='utf-8') as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            line = line.split('#', 1)[0].strip()
            match = re.match(r'^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$', line)
            if not match:
                continue
            options = dict(o.split('=', 1) for o in (match.group(2) or '').split() if '=' in o)
            signed_by = options.get('signed-by')
            if signed_by is not None and not os.path.isfile(signed_by):
                signed_by = None
            components = match.group(5).split() or ['main']
            component = 'main' if 'main' in components else components[0]
            found.append((match.group(3), match.group(4), component, signed_by))

    found = [s for s in found if s[0].startswith(('http://', 'https://')) and
             not s[1].endswith('/')]
    # The release itself (a suite without "-updates", "-security", ...) has the most versions.
    found.sort(key=lambda s: '-' in s[1])
    return found


# ---------------------------------------------------------------------------------------------
# Collecting versions.

def cat_file(path):
    result = subprocess.run([APT_HELPER, 'cat-file', path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, check=False)
    if result.returncode != 0:
        raise RuntimeError('apt-helper cat-file %s failed: %s' %
                           (path, result.stderr.decode(errors='replace').strip()))
    return result.stdout


def versions_from_index(data, with_source_field):
    versions = re.findall(rb'^Version:[ \t]*(\S+)[ \t]*$', data, re.MULTILINE)
    if with_source_field:
        versions += re.findall(rb'^Source:[ \t]*\S+[ \t]+\(([^)\s]+)\)[ \t]*$', data,
                               re.MULTILINE)
    return versions


def fetch_sources_versions(workdir):
    """Every Version of a Sources index fetched with a private apt configuration, or None."""
    sources = machine_sources()
    if not sources:
        log('dpkg-compare: this machine has no http(s) apt source to take a mirror from')
        return None
    uri, suite, component, signed_by = sources[0]

    lists = os.path.join(workdir, 'lists')
    cache = os.path.join(workdir, 'cache')
    parts = os.path.join(workdir, 'sources.list.d')
    for d in (os.path.join(lists, 'partial'), os.path.join(cache, 'archives', 'partial'), parts):
        os.makedirs(d)
    sources_list = os.path.join(workdir, 'sources.list')
    with open(sources_list, 'w', encoding='utf-8') as f:
        options = '[signed-by=%s] ' % signed_by if signed_by else ''
        f.write('deb-src %s%s %s %s\n' % (options, uri, suite, component))

    apt_options = [
        'Dir::State=' + workdir,
        'Dir::State::Lists=' + lists,
        'Dir::Cache=' + cache,
        'Dir::Cache::pkgcache=',
        'Dir::Cache::srcpkgcache=',
        'Dir::Etc::SourceList=' + sources_list,
        'Dir::Etc::SourceParts=' + parts,
        'APT::Get::List-Cleanup=0',
        'Acquire::Languages=none',
        'Acquire::Retries=1',
        'Acquire::http::Timeout=30',
        'Acquire::https::Timeout=30',
        'Debug::NoLocking=1',
        'APT::Sandbox::User=' + pwd.getpwuid(os.getuid()).pw_name,
    ]
    apt_args = [arg for option in apt_options for arg in ('-o', option)]

    log('dpkg-compare: fetching the %s Sources index of this machine\'s first apt source '
        '(suite %s)' % (component, suite))
    started = time.monotonic()
    try:
        update = subprocess.run(['apt-get', '-q'] + apt_args + ['update'], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, timeout=240, check=False)
    except subprocess.TimeoutExpired:
        log('dpkg-compare: apt-get update did not finish within 240 s')
        return None
    # The mirror is the machine's business: keep its name out of the test log.
    output = update.stdout.decode(errors='replace')
    host = urllib.parse.urlsplit(uri).hostname
    if host:
        output = output.replace(host, '<mirror>')
    if update.returncode != 0 or re.search(r'^(E:|W: Failed)', output, re.MULTILINE):
        log('dpkg-compare: apt-get update failed (exit %d):\n%s' % (update.returncode, output))
        return None

    targets = subprocess.run(['apt-get'] + apt_args +
                             ['indextargets', '--format', '$(FILENAME)', 'Identifier: Sources'],
                             stdout=subprocess.PIPE, check=True).stdout.decode().split()
    versions = []
    for path in targets:
        if os.path.exists(path):
            versions += versions_from_index(cat_file(path), with_source_field=False)
    if not versions:
        log('dpkg-compare: apt-get update succeeded but gave no Sources index')
        return None
    log('dpkg-compare: %d versions from %d Sources index(es) in %.1f s' %
        (len(versions), len(targets), time.monotonic() - started))
    return versions


def machine_packages_versions():
    """Every Version (and Source version) of the Packages lists this machine has already."""
    targets = subprocess.run(['apt-get', 'indextargets', '--format', '$(FILENAME)'],
                             stdout=subprocess.PIPE, check=False).stdout.decode().split()
    versions = []
    for path in targets:
        if os.path.exists(path):
            versions += versions_from_index(cat_file(path), with_source_field=True)
    return versions


# ---------------------------------------------------------------------------------------------
# Generated versions.

TRICKY = [
    b'0', b'00', b'0-0', b'0:0', b'1', b'01', b'001', b'1.0', b'1.00', b'1.01', b'1.1', b'1.001',
    b'1.0-0', b'1.0-00', b'1.0-1', b'1.0-01', b'1.0-1.0', b'1.0-a', b'1.0-~', b'1.0-0~',
    b'1.0~', b'1.0~~', b'1.0~~a', b'1.0~a', b'1.0~rc1', b'1.0~rc1~1', b'1.0~rc1-1', b'1.0a',
    b'1.0A', b'1.0Z', b'1.0z', b'1.0+', b'1.0.', b'1.0+b1', b'1.0.1', b'1.0+dfsg', b'1.0+dfsg-1',
    b'1.0a1', b'1a', b'1a1', b'1a01', b'1.a', b'10', b'9', b'1.9', b'1.10', b'1.09',
    b'1:0', b'0:9', b'1:1.0', b'2:0.1', b'10:1', b'9:2', b'00:9', b'2147483647:0',
    b'2147483646:9', b'1:2:3', b'1:2.3', b'0:2:3', b'1:2:3-4', b'1-2-3', b'1-2-4', b'1-3-1',
    b'1:1-1', b'1:1:1', b'2.36.1-8+deb11u1', b'2.36.1-8', b'1:9.18.19-1~deb12u1',
    b'1:9.18.19-1', b'6.1.0-13', b'6.1.0-9', b'1.2.3-1+b1', b'1.2.3-1.1', b'3.0~ds1-1~deb12u1',
    b'123456789012345678901234567890', b'123456789012345678901234567891',
    b'99999999999999999999999999999', b'100000000000000000000000000000',
    b'1.000000000000000000000000000000001', b'1~', b'1~0', b'1~~', b'1-~', b'1+', b'1.', b'1~+',
]

DIGIT_RUNS = [b'0', b'00', b'1', b'01', b'001', b'2', b'9', b'09', b'10', b'010', b'99', b'100',
              b'4294967295', b'4294967296', b'18446744073709551616',
              b'000000000000000000000000000000000001', b'99999999999999999999999999999999']
SEPARATORS = [b'.', b'.', b'+', b'~', b'~~', b'-', b':', b'', b'a', b'b', b'z', b'A', b'Z',
              b'rc', b'beta', b'+dfsg', b'~rc', b'+b', b'.a', b'~~a', b'+~', b'~+', b'.~']
REVISION_PARTS = [b'0', b'1', b'2', b'10', b'01', b'~', b'~1', b'1~', b'+b1', b'.1', b'a',
                  b'ubuntu1', b'~bpo12+1', b'+deb12u1', b'0.1', b'1.1', b'00', b'~~', b'+']
EPOCHS = [b'', b'', b'', b'', b'0:', b'1:', b'2:', b'00:', b'01:', b'10:', b'9:',
          b'2147483647:']


def random_valid(rng):
    upstream = rng.choice(DIGIT_RUNS)
    for _ in range(rng.randint(0, 4)):
        upstream += rng.choice(SEPARATORS) + rng.choice(DIGIT_RUNS + [b''])
    epoch = rng.choice(EPOCHS)
    revision = b''
    if rng.random() < 0.6:
        revision = b'-' + b''.join(rng.choice(REVISION_PARTS)
                                   for _ in range(rng.randint(1, 3)))
    # '-' in the upstream version needs a revision, ':' an epoch; drop what would not be valid.
    if not revision:
        upstream = upstream.replace(b'-', b'.')
    if not epoch:
        upstream = upstream.replace(b':', b'.')
    return epoch + upstream + revision


MUTATIONS = [b'0', b'1', b'9', b'00', b'a', b'z', b'A', b'~', b'~~', b'+', b'.', b'-', b':']


def mutate(rng, version):
    """A close neighbour of @version, valid or not (validity is decided by the comparison)."""
    kind = rng.randrange(5)
    position = rng.randint(0, len(version))
    if kind == 0:
        return version[:position] + rng.choice(MUTATIONS) + version[position:]
    if kind == 1 and len(version) > 1:
        return version[:position] + version[position + 1:]
    if kind == 2 and position < len(version):
        return version[:position] + rng.choice(MUTATIONS) + version[position + 1:]
    if kind == 3:
        return rng.choice([b'', b'0', b'00']) + version.replace(b'.', b'.0', 1)
    return version + rng.choice([b'~', b'+', b'a', b'0', b'-0', b'-1', b'~1', b'.0'])


INVALID_ALPHABET = (list(b'0123456789') * 3 + list(b'abzAZ.+~-:') * 2 +
                    list(b'_!@ \t\n,/=%\r') + [0x80, 0xc3, 0xa9, 0xff, 0x7f, 0x01])


def random_junk(rng):
    """Strings that are mostly not valid versions: bad characters, misplaced ':' and '-',
    empty parts, signs and blanks around epochs, whitespace inside and around."""
    prefix = rng.choice([b'', b'', b'', b'1:', b'+1:', b'-1:', b'-0:', b' ', b'\t1:', b':', b'a:',
                         b'2147483648:', b'99999999999999999999:', b'1a:', b'\n1:', b'-'])
    body = bytes(rng.choice(INVALID_ALPHABET) for _ in range(rng.randint(0, 10)))
    suffix = rng.choice([b'', b'', b'', b'-', b'-1', b'-1_1', b' ', b'\t', b'-a:b', b'~', b':'])
    return prefix + body + suffix


def generated_pairs(rng):
    valid_pairs = []
    for i, a in enumerate(TRICKY):
        for b in TRICKY[i + 1:]:
            valid_pairs.append((a, b))
    for _ in range(6000):
        a = random_valid(rng)
        valid_pairs.append((a, mutate(rng, a)))
        if rng.random() < 0.3:
            valid_pairs.append((a, random_valid(rng)))
    junk = [random_junk(rng) for _ in range(1500)]
    junk_pairs = [(a, rng.choice(junk)) for a in junk]
    junk_pairs += [(a, mutate(rng, a)) for a in junk]
    junk_pairs += [(a, rng.choice(TRICKY)) for a in junk]
    return valid_pairs, junk_pairs, junk


# ---------------------------------------------------------------------------------------------
# Asking libminibuildd and dpkg.

def run_helper(helper, mode, lines):
    data = b''.join(line + b'\n' for line in lines)
    result = subprocess.run([helper, mode], input=data, stdout=subprocess.PIPE, check=True)
    return result.stdout.splitlines()


def mbd_compare(helper, pairs):
    out = run_helper(helper, 'compare', [a.hex().encode() + b',' + b.hex().encode()
                                         for a, b in pairs])
    if len(out) != len(pairs):
        raise RuntimeError('helper answered %d of %d pairs' % (len(out), len(pairs)))
    answers = []
    for line in out:
        valid_a, valid_b, strict, lenient = line.decode().split()
        answers.append((valid_a == '1', valid_b == '1', SIGN.get(strict), SIGN[lenient]))
    return answers


def mbd_sort(helper, versions):
    out = run_helper(helper, 'sort', [v.hex().encode() for v in versions])
    return [bytes.fromhex(line.decode()) for line in out]


DPKG_ENV = dict(os.environ, LC_ALL='C')


def dpkg(a, operator, b):
    # "--" ends dpkg's options: a version may start with '-'.
    result = subprocess.run(['dpkg', '--compare-versions', '--', a, operator, b],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=DPKG_ENV,
                            check=False)
    return result.returncode, result.stderr.decode(errors='replace').strip()


def dpkg_sign(a, b):
    for sign in (-1, 0, 1):
        status, _ = dpkg(a, OPERATOR[sign], b)
        if status == 0:
            return sign
    return None


def dpkg_confirm(job):
    """Asks dpkg to confirm one answer; returns (status, stderr, dpkg's own sign or None)."""
    a, b, sign = job
    status, stderr = dpkg(a, OPERATOR[sign], b)
    own = dpkg_sign(a, b) if status == 1 else None
    return status, stderr, own


def dpkg_validity(version):
    """0: dpkg takes it silently; 1: dpkg warns; 2: dpkg refuses it."""
    status, stderr = dpkg(version, 'eq', version)
    if status != 0:
        return 2
    return 1 if stderr else 0


def dpkg_accepts_our_invalid(version):
    """dpkg reads the epoch with strtol(): white space and a sign before the digits pass there,
    while libminibuildd takes digits only. Those versions are refused on purpose."""
    epoch, colon, _ = version.partition(b':')
    return bool(colon) and re.fullmatch(rb'[ \t\n\v\f\r]*[+-]?[0-9]+', epoch) is not None and \
        re.fullmatch(rb'[0-9]+', epoch) is None


def parallel(function, jobs):
    workers = max(2, os.cpu_count() or 2)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, jobs, chunksize=64))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    helper = os.path.abspath(sys.argv[1])
    started = time.monotonic()
    rng = random.Random(20240520)  # fixed: a failure must be reproducible

    workdir = tempfile.mkdtemp(prefix='mbd-dpkg-compare-')
    try:
        real = None
        if os.environ.get('MBD_DPKG_COMPARE_OFFLINE') == '1':
            log('dpkg-compare: MBD_DPKG_COMPARE_OFFLINE=1, not fetching a Sources index')
        else:
            real = fetch_sources_versions(workdir)
        source = 'Sources index'
        if real is None:
            real = machine_packages_versions()
            source = 'Packages lists of this machine'
            log('dpkg-compare: NO Sources index; falling back to the %d versions in this '
                'machine\'s own Packages lists' % len(real))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    failures = []

    # Every real version must be valid for libminibuildd (dpkg checks it silently below).
    real = list(dict.fromkeys(real))
    log('dpkg-compare: %d distinct versions from the %s, each in at least one pair' %
        (len(real), source))
    real_sorted = mbd_sort(helper, real) if real else []
    real_pairs = list(zip(real_sorted, real_sorted[1:]))
    partners = list(real)
    rng.shuffle(partners)
    real_pairs += list(zip(real, partners))[:8000]
    if len(real) == 1:
        real_pairs.append((real[0], real[0]))

    valid_pairs, junk_pairs, junk = generated_pairs(rng)
    generated_count = len(valid_pairs) + len(junk_pairs)
    if generated_count < MIN_PAIRS:
        failures.append('only %d generated pairs, fewer than %d' % (generated_count, MIN_PAIRS))

    all_pairs = real_pairs + valid_pairs + junk_pairs
    answers = mbd_compare(helper, all_pairs)
    n_real = len(real_pairs)

    jobs = []
    for index, ((a, b), (valid_a, valid_b, strict, lenient)) in enumerate(zip(all_pairs, answers)):
        if index < n_real:
            for version, valid in ((a, valid_a), (b, valid_b)):
                if not valid:
                    failures.append('%s from the %s is refused by mbd_deb_version_new()' %
                                    (show(version), source))
        if valid_a and valid_b and strict != lenient:
            failures.append('compare and compare_strings differ for %s, %s: %d, %d' %
                            (show(a), show(b), strict, lenient))
        jobs.append((a, b, lenient))

    results = parallel(dpkg_confirm, jobs)

    confirmed = refused = 0
    for (a, b, sign), (status, stderr, own), answer in zip(jobs, results, answers):
        valid_a, valid_b = answer[0], answer[1]
        if status == 0:
            confirmed += 1
            if valid_a and valid_b and stderr:
                failures.append('dpkg warns about %s or %s that libminibuildd accepts: %s' %
                                (show(a), show(b), stderr))
        elif status == 1:
            failures.append('%s vs %s: libminibuildd says %s, dpkg says %s' %
                            (show(a), show(b), OPERATOR[sign],
                             OPERATOR.get(own, 'nothing (%r)' % own)))
        else:
            refused += 1
            if valid_a and valid_b:
                failures.append('dpkg refuses %s vs %s that libminibuildd accepts: %s' %
                                (show(a), show(b), stderr))

    # Validity of the generated junk and of the mutated versions against dpkg's own checks.
    candidates = list(dict.fromkeys([v for v in junk + [b for _, b in valid_pairs] if v]))
    verdicts = parallel(dpkg_validity, candidates)
    ours = mbd_compare(helper, [(v, v) for v in candidates])
    intended = 0
    for version, verdict, answer in zip(candidates, verdicts, ours):
        valid = answer[0]
        if valid and verdict != 0:
            failures.append('libminibuildd accepts %s, dpkg %s it' %
                            (show(version), 'warns about' if verdict == 1 else 'refuses'))
        elif not valid and verdict == 0:
            if dpkg_accepts_our_invalid(version):
                intended += 1
            else:
                failures.append('libminibuildd refuses %s, dpkg takes it without a warning' %
                                show(version))

    total = len(all_pairs)
    print('dpkg-compare: %d pairs (%d with versions from the %s, %d generated), '
          'dpkg confirmed %d, refused %d (invalid strings); %d generated strings checked for '
          'validity (%d with a signed or space-led epoch that dpkg takes and libminibuildd '
          'refuses on purpose); %.1f s' %
          (total, n_real, source, generated_count, confirmed, refused, len(candidates), intended,
           time.monotonic() - started))
    if total < MIN_PAIRS:
        failures.append('only %d pairs, fewer than %d' % (total, MIN_PAIRS))
    if n_real == 0:
        failures.append('no real versions at all (neither a Sources index nor Packages lists)')
    for failure in failures[:200]:
        print('DISAGREEMENT: ' + failure)
    if len(failures) > 200:
        print('... and %d more' % (len(failures) - 200))
    if failures:
        print('dpkg-compare: FAILED with %d disagreement(s)' % len(failures))
        return 1
    print('dpkg-compare: libminibuildd and dpkg agree on every pair')
    return 0


if __name__ == '__main__':
    sys.exit(main())
