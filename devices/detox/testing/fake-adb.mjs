#!/usr/bin/env node
// Test double of adb (the hardware boundary only): appends its argv to $FAKE_ADB_LOG (one JSON array
// a line) and prints what a device would for the commands the harness uses. The battery level drops
// one point per `dumpsys battery` read after a reset, so before/after differ as on a device.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

const argv = process.argv.slice(2);
if (process.env.FAKE_ADB_LOG) appendFileSync(process.env.FAKE_ADB_LOG, `${JSON.stringify(argv)}\n`);
const args = argv[0] === '-s' ? argv.slice(2) : argv;
const stateFile = process.env.FAKE_ADB_STATE;
const state = stateFile && existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : { level: 80 };
const save = () => stateFile && writeFileSync(stateFile, JSON.stringify(state));
const cmd = args.join(' ');

if (cmd === 'version') console.log('Android Debug Bridge version 1.0.41 (fake)');
else if (cmd === 'devices -l')
  console.log(
    'List of devices attached\nemulator-5554          device product:sdk_gphone64 model:Pixel_7 device:emu64 transport_id:1\n',
  );
else if (cmd === 'shell dumpsys battery') {
  console.log(
    `Current Battery Service state:\n  AC powered: false\n  level: ${state.level}\n  scale: 100\n  voltage: 4012\n`,
  );
  state.level -= 1;
  save();
} else if (cmd.startsWith('shell dumpsys package '))
  console.log(`Packages:\n  Package [${args[3]}] (1a2b):\n    userId=10123\n`);
else if (cmd === 'shell dumpsys batterystats --charged')
  console.log(
    'Statistics since last charge:\n  Estimated power use (mAh):\n    Capacity: 3000, Computed drain: 9.80, actual drain: 0-30\n    Global\n    UID u0a99: 7.30 fg: 7.3\n    UID u0a123: 2.50 fg: 2.1 bg: 0.4\n',
  );
else if (args[0] === 'nope') process.exit(1);
