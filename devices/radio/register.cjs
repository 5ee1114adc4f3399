'use strict';
/**
 * Register module for the virtual radio (CommonJS, so it works with `node --require` and from ESM via
 * createRequire). It hooks Module._resolveFilename so that `@abandonware/bluetooth-hci-socket`, the
 * one native piece under noble and bleno, resolves to virtual-hci-socket.cjs. Nothing else changes:
 * noble's and bleno's own JS runs as shipped. Without HARNESS_BLE=virtual (or installHook()), the real
 * native socket is used, so the same code drives real adapters.
 *
 *   HARNESS_BLE=virtual node --import tsx --require ./devices/radio/register.cjs app.ts
 */
const Module = require('node:module');
const path = require('node:path');

const TARGET = '@abandonware/bluetooth-hci-socket';
const SHIM = path.join(__dirname, 'virtual-hci-socket.cjs');

function installHook() {
  if (Module._resolveFilename.__virtualRadio) return false;
  for (const id of Object.keys(require.cache)) {
    if (id.includes(`${path.sep}@abandonware${path.sep}bluetooth-hci-socket${path.sep}`)) {
      throw Object.assign(
        new Error(
          'HRN_ERR_BLE_VIRTUAL: the real bluetooth-hci-socket is already loaded; install the virtual radio before the first import of noble/bleno',
        ),
        { code: 'HRN_ERR_BLE_VIRTUAL' },
      );
    }
  }
  const original = Module._resolveFilename;
  const hooked = function (request, ...rest) {
    if (request === TARGET) return SHIM;
    return original.call(this, request, ...rest);
  };
  hooked.__virtualRadio = true;
  Module._resolveFilename = hooked;
  return true;
}

function isHookInstalled() {
  return Boolean(Module._resolveFilename.__virtualRadio);
}

if (process.env.HARNESS_BLE === 'virtual') installHook();

module.exports = { installHook, isHookInstalled, TARGET, SHIM };
