'use strict';
/**
 * What `require('@abandonware/bluetooth-hci-socket')` returns once register.cjs is installed: the
 * VirtualHciSocket class of socket.ts, published on globalThis by installVirtualRadio(). When only the
 * env switch was used (node --require register.cjs), the TypeScript side is loaded here (needs tsx).
 */
const KEY = Symbol.for('sync-harness.virtual-radio');

if (!globalThis[KEY]?.backend) {
  try {
    require('./install.ts').installVirtualRadio();
  } catch (err) {
    throw Object.assign(
      new Error(
        `HRN_ERR_BLE_VIRTUAL: could not start the virtual radio (${err?.message}); run under tsx (node --import tsx) or call installVirtualRadio() first`,
      ),
      { code: 'HRN_ERR_BLE_VIRTUAL' },
    );
  }
}

module.exports = globalThis[KEY].Socket;
