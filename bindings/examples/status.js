// SPDX-License-Identifier: LGPL-2.1-or-later
// Print the status of an mbd instance, creating it if needed: libminibuildd from GJS.
// Usage: gjs -m status.js HOME
import Mbd from 'gi://Mbd?version=1.0';
import System from 'system';

const instance = Mbd.Instance.new(System.programArgs[0]);
instance.open(Mbd.InstanceOpenFlags.CREATE, null);
const status = instance.get_status(null);
print(`${status.identity}: key ${instance.fingerprint}, chroots [${status.get_chroots()}]`);
print(status.to_json());
